/// A 5 × 7 bitmap font for axis labels: digits and the few letters the labels use.
enum Glyphs {
    static let width = 5, height = 7

    /// Rows of each glyph, top first; "#" is ink.
    static let rows: [Character: [String]] = [
        "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
        "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
        "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
        "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
        "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
        "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
        "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
        "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
        "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
        "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
        "C": [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "],
        "D": ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "],
        "I": [" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
        "M": ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"],
        "c": ["     ", "     ", " ### ", "#    ", "#    ", "#   #", " ### "],
        "e": ["     ", "     ", " ### ", "#   #", "#####", "#    ", " ### "],
        "h": ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#   #"],
        "i": ["  #  ", "     ", " ##  ", "  #  ", "  #  ", "  #  ", " ### "],
        "m": ["     ", "     ", "## # ", "# # #", "# # #", "#   #", "#   #"],
        "p": ["     ", "     ", "#### ", "#   #", "#### ", "#    ", "#    "],
        "s": ["     ", "     ", " ####", "#    ", " ### ", "    #", "#### "],
        "t": [" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## "],
        "(": ["   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # "],
        ")": [" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   "],
        ".": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "],
        " ": ["     ", "     ", "     ", "     ", "     ", "     ", "     "],
    ]

    /// The width in pixels of `text` (one column between glyphs).
    static func width(of text: String) -> Int { max(text.count * (width + 1) - 1, 0) }
}

extension RGBImage {
    /// Draws `text` with its top-left corner at (`x`, `y`); characters without a glyph are blanks.
    mutating func draw(_ text: String, x: Int, y: Int, color: (UInt8, UInt8, UInt8)) {
        for (index, character) in text.enumerated() {
            guard let rows = Glyphs.rows[character] else { continue }
            for (row, line) in rows.enumerated() {
                for (column, ink) in line.enumerated() where ink == "#" {
                    set(x: x + index * (Glyphs.width + 1) + column, y: y + row, color)
                }
            }
        }
    }

    /// Fills the rectangle from (`x`, `y`) of `width` × `height` pixels, clipped to the image.
    mutating func fill(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8)) {
        for py in max(y, 0)..<max(min(y + height, self.height), max(y, 0)) {
            for px in max(x, 0)..<max(min(x + width, self.width), max(x, 0)) { set(x: px, y: py, color) }
        }
    }
}
