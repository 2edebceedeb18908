import Testing
import KymoCore
import KymoTestSupport
@testable import KymoReport

@Suite struct ImageGridDataTests {
    /// Real MNIST test images (IDX, 16-byte header, 28×28 bytes each) drawn as run-length rects.
    @Test func mnistDigitsRenderCompactlyAndKeepTheirInk() throws {
        let raw = try Gzip.decompress(try SharedData.bytes("mnist/t10k-images-idx3-ubyte.gz"), source: "t10k-images")
        let labels = try Gzip.decompress(try SharedData.bytes("mnist/t10k-labels-idx1-ubyte.gz"), source: "t10k-labels")
        let count = 32
        let images = (0..<count).map { i in
            GrayImage(width: 28, height: 28, pixels: raw[(16 + 784 * i)..<(16 + 784 * (i + 1))].map { Float($0) / 255 },
                      caption: ["#\(i)", "label \(labels[8 + i])"])
        }
        let grid = ImageGrid(title: "MNIST t10k", images: images)
        let svg = grid.svg()
        let cells = svg.all(named: "g").filter { $0.attribute("class") == "image" }
        #expect(cells.count == count)
        for (image, cell) in zip(images, cells) {
            // Every inked pixel (level ≥ 1) is covered by exactly one run.
            let inked = image.pixels.filter { ImageGrid.quantize($0, levels: 16) > 0 }.count
            let covered = (0..<28).flatMap { ImageGrid.runs(image, row: $0, levels: 16) }.reduce(0) { $0 + $1.length }
            #expect(inked == covered)
            let rects = cell.all(named: "rect").count - 1  // minus the cell frame
            #expect(rects < inked)  // runs merge pixels
        }
        let bytes = svg.render().utf8.count
        #expect(bytes < count * 12_000, "\(bytes) bytes for \(count) MNIST digits")
    }

    /// The 8×8 sklearn digits (CSV: 64 pixel values 0…16, then the label).
    @Test func sklearnDigitsRender() throws {
        let text = String(decoding: try Gzip.decompress(try SharedData.bytes("sklearn-digits/digits.csv.gz"), source: "digits"), as: UTF8.self)
        let rows = text.split(separator: "\n").prefix(11).compactMap { line -> [Double]? in
            let fields = line.split(separator: ",").compactMap { Double($0) }
            return fields.count == 65 ? fields : nil  // skips a header, if any
        }
        #expect(rows.count >= 10)
        let images = rows.map { GrayImage(width: 8, height: 8, pixels: $0.prefix(64).map { Float($0 / 16) }, caption: ["label \(Int($0[64]))"]) }
        let svg = ImageGrid(title: "digits", images: images, columns: 5).svg()
        #expect(svg.all(named: "g").filter { $0.attribute("class") == "image" }.count == images.count)
        #expect(svg.all(named: "rect").count > images.count * 3)
    }
}
