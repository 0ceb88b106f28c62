import Foundation
import Testing

@testable import KinesisLoad

@Suite("The report's model")
struct ReportDocumentTests {
    @Test("text from the run stays text: a key holding markup is escaped in the HTML and cannot break a Markdown table")
    func runTextIsNeverMarkup() {
        let key = "a|**b**<i>`c`"
        let block = ReportBlock.table(header: ["key", "events"], rows: [["\(code: key)", "3"]])
        #expect(block.markdown == "| key | events |\n|---|---|\n| `` a\\|**b**<i>`c` `` | 3 |")
        #expect(block.html.contains("<td><code>a|**b**&lt;i&gt;`c`</code></td>"))
        #expect(!block.html.contains("<strong>") && !block.html.contains("<i>"))
        let line: Inline = "\(strong: "Hot shard: s-1"); keys behind it: \(code: "k")"
        #expect(ReportBlock.paragraph(line).markdown == "**Hot shard: s-1**; keys behind it: `k`")
        #expect(ReportBlock.paragraph(line).html == "<p><strong>Hot shard: s-1</strong>; keys behind it: <code>k</code></p>")
    }

    @Test("a document's Markdown is its lead, then its details, a blank line between blocks; a list is one element in HTML")
    func documentLayout() {
        var doc = ReportDocument()
        doc.lead = [.heading(level: 1, "Run 1: x"), .paragraph("\(strong: "PASSED")")]
        doc.details = [.heading(level: 2, "Totals"), .list(["one", "two"])]
        #expect(doc.markdown == "# Run 1: x\n\n**PASSED**\n\n## Totals\n\n- one\n- two\n")
        #expect(ReportBlock.list(["one", "two"]).html == "<ul>\n<li>one</li>\n<li>two</li>\n</ul>")
    }
}
