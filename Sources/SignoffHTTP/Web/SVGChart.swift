import Foundation

/// Charts drawn on the server as SVG geometry for the templates: horizontal bars (Chinese
/// labels fit a phone better across than under a column) and a line of values per day. The
/// template draws the shapes; every figure is also a `<text>` label, so the chart reads and
/// prints without a chart library or script.
enum SVGChart {
    struct Item {
        var label: String
        var value: Int
    }

    struct Bars {
        var id: String
        var title: String
        var bars: [Item]

        static let width = 360
        static let labelWidth = 104
        static let barArea = 196
        static let rowHeight = 30

        struct Row {
            var y: Int
            var textY: Int
            var label: String
            var barX: Int
            var barWidth: Int
            var value: Int
            var valueX: Int
        }

        struct Layout {
            var id: String
            var title: String
            var width: Int
            var height: Int
            var rows: [Row]
            var hasRows: Bool
        }

        func layout() -> Layout {
            let top = self.bars.map(\.value).max() ?? 0
            let rows = self.bars.enumerated().map { index, bar in
                let y = index * Self.rowHeight + 4
                let length = top > 0 ? max(bar.value > 0 ? 2 : 0, Int((Double(bar.value) / Double(top) * Double(Self.barArea)).rounded())) : 0
                return Row(y: y, textY: y + 17, label: bar.label, barX: Self.labelWidth, barWidth: length, value: bar.value,
                           valueX: Self.labelWidth + length + 6)
            }
            return Layout(id: self.id, title: self.title, width: Self.width, height: max(1, self.bars.count) * Self.rowHeight + 8,
                          rows: rows, hasRows: !rows.isEmpty)
        }
    }

    struct Line {
        var id: String
        var title: String
        var points: [Item]

        static let width = 360
        static let height = 200
        static let left = 36
        static let right = 16
        static let top = 24
        static let bottom = 40

        struct Point {
            var x: Int
            var y: Int
            var label: String
            var value: Int
            var labelY: Int
        }

        struct Layout {
            var id: String
            var title: String
            var width: Int
            var height: Int
            var polyline: String
            var points: [Point]
            var axisY: Int
            var axisLeft: Int
            var axisRight: Int
            var firstDay: String
            var lastDay: String
            var dayLabelY: Int
            var lastDayX: Int
            var maxValue: Int
            var total: Int
        }

        func layout() -> Layout {
            let top = max(1, self.points.map(\.value).max() ?? 1)
            let plotWidth = Self.width - Self.left - Self.right
            let plotHeight = Self.height - Self.top - Self.bottom
            let step = self.points.count > 1 ? Double(plotWidth) / Double(self.points.count - 1) : 0
            let points = self.points.enumerated().map { index, item in
                let x = Self.left + Int((Double(index) * step).rounded()) + (self.points.count == 1 ? plotWidth / 2 : 0)
                let y = Self.top + plotHeight - Int((Double(item.value) / Double(top) * Double(plotHeight)).rounded())
                return Point(x: x, y: y, label: item.label, value: item.value, labelY: y - 6)
            }
            return Layout(
                id: self.id, title: self.title, width: Self.width, height: Self.height,
                polyline: points.map { "\($0.x),\($0.y)" }.joined(separator: " "), points: points,
                axisY: Self.top + plotHeight, axisLeft: Self.left, axisRight: Self.width - Self.right,
                firstDay: self.points.first?.label ?? "", lastDay: self.points.count > 1 ? self.points.last?.label ?? "" : "",
                dayLabelY: Self.height - 14, lastDayX: Self.width - Self.right, maxValue: top,
                total: self.points.reduce(0) { $0 + $1.value })
        }
    }
}
