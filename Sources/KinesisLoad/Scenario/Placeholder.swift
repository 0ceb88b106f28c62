import GRDB
import Histogram
