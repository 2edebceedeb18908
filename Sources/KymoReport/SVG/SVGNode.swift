/// One attribute of an SVG element; attributes keep the order they were given in.
package struct SVGAttribute: Sendable, Equatable {
    package var name: String
    package var value: String

    /// - Complexity: O(1).
    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A minimal SVG element tree with a deterministic text renderer.
///
/// Attribute order is the order of construction (never a dictionary), numbers are formatted by
/// the caller through `NumberFormat`, and all text and attribute values are escaped on output,
/// so equal trees render to equal bytes.
package struct SVGNode: Sendable, Equatable {
    package var name: String
    package var attributes: [SVGAttribute]
    package var children: [SVGNode]
    package var text: String?

    /// - Complexity: O(attributes + children).
    package init(_ name: String, _ attributes: [(String, String)] = [], children: [SVGNode] = [], text: String? = nil) {
        self.name = name
        self.attributes = attributes.map { SVGAttribute($0.0, $0.1) }
        self.children = children
        self.text = text
    }

    /// A `<g>` group.
    /// - Complexity: O(children).
    package static func group(_ attributes: [(String, String)] = [], _ children: [SVGNode]) -> SVGNode {
        SVGNode("g", attributes, children: children)
    }

    /// A `<text>` element.
    /// - Complexity: O(1).
    package static func label(_ text: String, x: Double, y: Double, anchor: String = "start",
                              size: Double? = nil, weight: String? = nil, fill: String? = nil,
                              extra: [(String, String)] = []) -> SVGNode {
        var attributes = [("x", NumberFormat.fixed(x)), ("y", NumberFormat.fixed(y))]
        if anchor != "start" { attributes.append(("text-anchor", anchor)) }
        if let size { attributes.append(("font-size", NumberFormat.fixed(size))) }
        if let weight { attributes.append(("font-weight", weight)) }
        if let fill { attributes.append(("fill", fill)) }
        attributes += extra
        return SVGNode("text", attributes, text: text)
    }

    /// A `<line>`.
    /// - Complexity: O(1).
    package static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
                             stroke: String, width: Double = 1, extra: [(String, String)] = []) -> SVGNode {
        SVGNode("line", [
            ("x1", NumberFormat.fixed(x1)), ("y1", NumberFormat.fixed(y1)),
            ("x2", NumberFormat.fixed(x2)), ("y2", NumberFormat.fixed(y2)),
            ("stroke", stroke), ("stroke-width", NumberFormat.fixed(width)),
        ] + extra)
    }

    /// A `<rect>`.
    /// - Complexity: O(1).
    package static func rect(x: Double, y: Double, width: Double, height: Double,
                             fill: String, extra: [(String, String)] = []) -> SVGNode {
        SVGNode("rect", [
            ("x", NumberFormat.fixed(x)), ("y", NumberFormat.fixed(y)),
            ("width", NumberFormat.fixed(width)), ("height", NumberFormat.fixed(height)),
            ("fill", fill),
        ] + extra)
    }

    /// Path data `M x y L x y …` through `points` (non-finite points skipped, starting a new run).
    /// - Complexity: O(points).
    package static func pathData(_ points: [(Double, Double)], close: Bool = false) -> String {
        var d = ""
        var pen = false
        for (x, y) in points {
            guard x.isFinite && y.isFinite else { pen = false; continue }
            if !d.isEmpty { d += " " }
            d += pen ? "L" : "M"
            d += NumberFormat.fixed(x) + " " + NumberFormat.fixed(y)
            pen = true
        }
        if close && !d.isEmpty { d += " Z" }
        return d
    }

    /// The element as SVG text; children one per line.
    /// - Complexity: O(size of the tree).
    package func render() -> String {
        var out = ""
        render(into: &out)
        return out
    }

    /// Appends the element's SVG text to `out`.
    /// - Complexity: O(size of the tree).
    package func render(into out: inout String) {
        out += "<" + name
        for attribute in attributes {
            out += " " + attribute.name + "=\"" + Escape.html(attribute.value) + "\""
        }
        if children.isEmpty && text == nil {
            out += "/>"
            return
        }
        out += ">"
        if let text { out += Escape.html(text) }
        if !children.isEmpty {
            out += "\n"
            for child in children {
                child.render(into: &out)
                out += "\n"
            }
        }
        out += "</" + name + ">"
    }

    /// Every descendant (and self) named `name`, depth first.
    /// - Complexity: O(size of the tree).
    package func all(named name: String) -> [SVGNode] {
        var found: [SVGNode] = []
        if self.name == name { found.append(self) }
        for child in children { found += child.all(named: name) }
        return found
    }

    /// The value of attribute `name`, if present.
    /// - Complexity: O(attributes).
    package func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }
}
