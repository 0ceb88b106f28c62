import Foundation

/// A run of text with emphasis, written once and rendered as Markdown or as HTML. Built with
/// string interpolation: `"keys behind it: \(code: key) (\(share)%)"`, `"\(strong: "FAILED")"`.
/// Text from the run (partition keys, error codes, scenario names) stays text in both: a key
/// holding `**` or `<b>` is escaped, never read as markup.
package struct Inline: Sendable, Hashable, ExpressibleByStringInterpolation {
    enum Part: Sendable, Hashable {
        case text(String)
        case strong(String)
        case code(String)
    }

    var parts: [Part]

    package init(stringLiteral value: String) { parts = value.isEmpty ? [] : [.text(value)] }

    package init(stringInterpolation: Interpolation) { parts = stringInterpolation.parts }

    package init(strong text: String) { parts = [.strong(text)] }

    package struct Interpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        package init(literalCapacity: Int, interpolationCount: Int) {}

        package mutating func appendLiteral(_ literal: String) { text(literal) }

        package mutating func appendInterpolation(_ value: some CustomStringConvertible) { text(value.description) }

        package mutating func appendInterpolation(_ inline: Inline) { parts += inline.parts }

        package mutating func appendInterpolation(strong text: String) { parts.append(.strong(text)) }

        package mutating func appendInterpolation(code text: String) { parts.append(.code(text)) }

        mutating func text(_ text: String) {
            guard !text.isEmpty else { return }
            if case .text(let before) = parts.last {
                parts[parts.count - 1] = .text(before + text)
            } else {
                parts.append(.text(text))
            }
        }
    }

    package static func + (lhs: Inline, rhs: Inline) -> Inline {
        var joined = lhs
        joined.parts += rhs.parts
        return joined
    }

    package static func += (lhs: inout Inline, rhs: Inline) { lhs = lhs + rhs }

    /// `parts` joined by `separator`.
    package static func joined(_ parts: [Inline], separator: String) -> Inline {
        parts.enumerated().reduce(into: Inline("")) { out, item in out += (item.offset == 0 ? "" : Inline(stringLiteral: separator)) + item.element }
    }

    package var markdown: String {
        parts.map { part in
            switch part {
            case .text(let text): return text
            case .strong(let text): return "**\(text)**"
            case .code(let text):
                // A backtick inside code needs a longer fence (CommonMark), spaced from it.
                guard text.contains("`") else { return "`\(text)`" }
                return "`` \(text) ``"
            }
        }.joined()
    }

    package var html: String {
        parts.map { part in
            switch part {
            case .text(let text): return ReportWriter.xml(text)
            case .strong(let text): return "<strong>\(ReportWriter.xml(text))</strong>"
            case .code(let text): return "<code>\(ReportWriter.xml(text))</code>"
            }
        }.joined()
    }
}

/// One block of a report.
package enum ReportBlock: Sendable, Hashable {
    case heading(level: Int, Inline)
    case paragraph(Inline)
    case list([Inline])
    case table(header: [Inline], rows: [[Inline]])

    package var markdown: String {
        switch self {
        case .heading(let level, let text): return String(repeating: "#", count: level) + " " + text.markdown
        case .paragraph(let text): return text.markdown
        case .list(let items): return items.map { "- " + $0.markdown }.joined(separator: "\n")
        case .table(let header, let rows):
            func line(_ cells: [Inline]) -> String {
                "| " + cells.map { $0.markdown.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
            }
            return ([line(header), "|" + String(repeating: "---|", count: header.count)] + rows.map(line)).joined(separator: "\n")
        }
    }

    package var html: String {
        switch self {
        case .heading(let level, let text): return "<h\(level)>\(text.html)</h\(level)>"
        case .paragraph(let text): return "<p>\(text.html)</p>"
        case .list(let items): return "<ul>\n" + items.map { "<li>\($0.html)</li>\n" }.joined() + "</ul>"
        case .table(let header, let rows):
            return "<table><tr>" + header.map { "<th>\($0.html)</th>" }.joined() + "</tr>\n"
                + rows.map { "<tr>" + $0.map { "<td>\($0.html)</td>" }.joined() + "</tr>\n" }.joined() + "</table>"
        }
    }
}

/// A run's report as blocks: the lead (title, verdict, thresholds, verification), read first,
/// and the details (totals, rate, latency, consumers, errors, shards, keys). The Markdown is the
/// two in order; the HTML puts the charts between them.
package struct ReportDocument: Sendable, Hashable {
    package var lead: [ReportBlock] = []
    package var details: [ReportBlock] = []

    package var markdown: String { (lead + details).map(\.markdown).joined(separator: "\n\n") + "\n" }

}
