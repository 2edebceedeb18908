/// A grayscale image: row-major pixels in [0, 1] (0 = background, 1 = ink), with caption lines.
package struct GrayImage: Sendable, Equatable {
    package var width: Int
    package var height: Int
    package var pixels: [Float]
    package var caption: [String]

    /// - Complexity: O(1).
    package init(width: Int, height: Int, pixels: [Float], caption: [String] = []) {
        precondition(pixels.count == width * height, "pixels must hold width × height values")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.caption = caption
    }
}

/// Images (8×8 digits, 28×28 MNIST) in a grid, drawn as dark ink on white with a caption under
/// each. Pixels are quantized to `levels` gray levels and each row's runs of equal non-background
/// level become one `<rect>`, so a 28×28 digit costs about a hundred rects, not 784.
package struct ImageGrid: Sendable, Equatable {
    package var title: String
    package var images: [GrayImage]
    package var columns: Int
    /// Size of the drawn image in pixels (its longer side).
    package var cellSize: Double
    package var levels: Int

    /// - Complexity: O(1).
    package init(title: String, images: [GrayImage], columns: Int = 8, cellSize: Double = 84, levels: Int = 16) {
        precondition(columns >= 1 && levels >= 2)
        self.title = title
        self.images = images
        self.columns = columns
        self.cellSize = cellSize
        self.levels = levels
    }

    private var captionLines: Int { images.map(\.caption.count).max() ?? 0 }
    private var cellWidth: Double { cellSize + 16 }
    private var cellHeight: Double { cellSize + 10 + 13 * Double(captionLines) }
    private var rows: Int { (images.count + columns - 1) / columns }

    /// - Complexity: O(1).
    package var width: Double { 16 + Double(min(columns, max(1, images.count))) * cellWidth }
    /// - Complexity: O(1).
    package var height: Double { 34 + Double(rows) * cellHeight + 8 }

    /// The quantized runs of row `row`: (first column, length, level ≥ 1).
    /// - Complexity: O(width).
    package static func runs(_ image: GrayImage, row: Int, levels: Int) -> [(start: Int, length: Int, level: Int)] {
        var out: [(Int, Int, Int)] = []
        var x = 0
        while x < image.width {
            let level = quantize(image.pixels[row * image.width + x], levels: levels)
            var end = x + 1
            while end < image.width && quantize(image.pixels[row * image.width + end], levels: levels) == level { end += 1 }
            if level > 0 { out.append((x, end - x, level)) }
            x = end
        }
        return out.map { (start: $0.0, length: $0.1, level: $0.2) }
    }

    static func quantize(_ v: Float, levels: Int) -> Int {
        guard v.isFinite else { return 0 }
        let c = min(1, max(0, Double(v)))
        return Int((c * Double(levels - 1)).rounded())
    }

    static func gray(_ level: Int, levels: Int) -> String {
        let g = 255 - (level * 255) / (levels - 1)
        let hex = String(g, radix: 16)
        let h = hex.count == 1 ? "0" + hex : hex
        return "#" + h + h + h
    }

    /// - Complexity: O(total pixels).
    package func svg() -> SVGNode {
        var nodes: [SVGNode] = [SVGNode("title", text: title),
                                .rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff"),
                                .label(title, x: 16, y: 20, size: 13, weight: "600", fill: Theme.text)]
        for (index, image) in images.enumerated() {
            let col = index % columns, row = index / columns
            let ox = 16 + Double(col) * cellWidth
            let oy = 34 + Double(row) * cellHeight
            let px = cellSize / Double(max(image.width, image.height))
            var cell: [SVGNode] = [
                .rect(x: 0, y: 0, width: px * Double(image.width), height: px * Double(image.height), fill: "#ffffff",
                      extra: [("stroke", Theme.grid)]),
            ]
            for r in 0..<image.height {
                for run in ImageGrid.runs(image, row: r, levels: levels) {
                    cell.append(.rect(x: px * Double(run.start), y: px * Double(r), width: px * Double(run.length),
                                      height: px, fill: ImageGrid.gray(run.level, levels: levels)))
                }
            }
            for (i, line) in image.caption.enumerated() {
                cell.append(.label(line, x: cellSize / 2, y: cellSize + 14 + 13 * Double(i), anchor: "middle",
                                   size: 10, fill: i == 0 ? Theme.text : Theme.mutedText))
            }
            nodes.append(.group([("class", "image"), ("transform", "translate(\(NumberFormat.fixed(ox)) \(NumberFormat.fixed(oy)))"),
                                 ("shape-rendering", "crispEdges")], cell))
        }
        return SVGNode("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", NumberFormat.fixed(width)), ("height", NumberFormat.fixed(height)),
            ("viewBox", "0 0 \(NumberFormat.fixed(width)) \(NumberFormat.fixed(height))"),
            ("font-family", Theme.font), ("font-size", "11"), ("role", "img"),
        ], children: nodes)
    }
}
