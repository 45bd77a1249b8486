import Foundation
import SignoffCore

/// A machine's diagram as SVG geometry, laid out on the server from its declared transitions:
/// states in layers by their distance from the start (a simple layered layout), arrows down
/// between layers, arrows back up on the left, and each state's own events as a loop on its
/// right. The template draws the shapes; no script or diagram library is needed.
struct DiagramSVG {
    struct Box {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var title: String
        var subtitle: String
        var titleX: Int
        var titleY: Int
        var subtitleY: Int
        var final: Bool
        var innerX: Int
        var innerY: Int
        var innerWidth: Int
        var innerHeight: Int
    }

    struct Arrow {
        var path: String
        var label: String
        var labelX: Int
        var labelY: Int
        var labelWidth: Int
        var anchor: String
        var backX: Int
        var backY: Int
    }

    var id: String
    var width: Int
    var height: Int
    var startX: Int
    var startY: Int
    var boxes: [Box]
    var arrows: [Arrow]

    static let boxHeight = 46
    static let layerGap = 76
    static let columnGap = 28
    static let margin = 16
    static let labelHeight = 16

    /// Width of `text` in pixels at `size`: CJK characters are square, others about 0.55 of it.
    static func textWidth(_ text: String, size: Double) -> Int {
        Int(text.unicodeScalars.reduce(0.0) { $0 + ($1.value >= 0x2E80 ? size : size * 0.56) }.rounded(.up))
    }

    /// "待签 pending" → ("待签", "pending"): the Chinese term on top, the English under it.
    static func split(_ label: String) -> (String, String) {
        guard let space = label.firstIndex(of: " ") else { return (label, "") }
        return (String(label[..<space]), String(label[label.index(after: space)...]))
    }

    init(_ diagram: StateMachineDiagram) {
        self.id = diagram.kind
        let names = diagram.states.map(\.name)
        let labels = Dictionary(diagram.states.map { ($0.name, $0.label) }, uniquingKeysWith: { first, _ in first })

        // Layers: breadth-first from the states the creating events lead to.
        var layer: [String: Int] = [:]
        var queue: [String] = []
        for edge in diagram.edges where edge.from == nil && layer[edge.to] == nil {
            layer[edge.to] = 1
            queue.append(edge.to)
        }
        var index = 0
        while index < queue.count {
            let state = queue[index]
            index += 1
            for edge in diagram.edges where edge.from == state && layer[edge.to] == nil {
                layer[edge.to] = layer[state]! + 1
                queue.append(edge.to)
            }
        }
        let deepest = layer.values.max() ?? 0
        for name in names where layer[name] == nil { layer[name] = deepest + 1 }

        // Events that leave and come back to one state become a single loop with their names.
        var loops: [String: [String]] = [:]
        var pairs: [(from: String?, to: String, events: [String])] = []
        for edge in diagram.edges {
            if edge.from == edge.to, let from = edge.from {
                if !(loops[from] ?? []).contains(edge.event) { loops[from, default: []].append(edge.event) }
                continue
            }
            if let found = pairs.firstIndex(where: { $0.from == edge.from && $0.to == edge.to }) {
                if !pairs[found].events.contains(edge.event) { pairs[found].events.append(edge.event) }
            } else {
                pairs.append((edge.from, edge.to, [edge.event]))
            }
        }

        // Boxes: each layer centred; a state with a loop keeps room on its right for the names.
        struct Slot { var name: String; var boxWidth: Int; var slotWidth: Int }
        let layers = (1...max(1, layer.values.max() ?? 1)).map { number in
            names.filter { layer[$0] == number }.map { name -> Slot in
                let (title, subtitle) = Self.split(labels[name] ?? name)
                let box = max(Self.textWidth(title, size: 14), Self.textWidth(subtitle, size: 11)) + 20
                let loopWidth = loops[name].map { events in 26 + (events.map { Self.textWidth($0, size: 11) }.max() ?? 0) } ?? 0
                return Slot(name: name, boxWidth: max(box, 64), slotWidth: max(box, 64) + loopWidth)
            }
        }
        // An arrow between two states of one layer carries its label in the gap between them.
        let acrossLabels = pairs.filter { pair in pair.from.map { layer[$0] == layer[pair.to] } ?? false }
            .map { Self.textWidth($0.events.joined(separator: "、"), size: 11) + 20 }
        let columnGap = max(Self.columnGap, acrossLabels.max() ?? 0)
        let rowWidths = layers.map { slots in slots.reduce(0) { $0 + $1.slotWidth } + max(0, slots.count - 1) * columnGap }
        // Room on the left for arrows going back up.
        let backLabels = pairs.filter { pair in pair.from.map { (layer[$0] ?? 0) > (layer[pair.to] ?? 0) } ?? false }
            .map { Self.textWidth($0.events.joined(separator: "、"), size: 11) }
        let backRoom = backLabels.max().map { max(70, $0 + 24) } ?? 0
        let width = (rowWidths.max() ?? 0) + 2 * Self.margin + backRoom
        var boxes: [String: Box] = [:]
        for (number, slots) in layers.enumerated() {
            var x = backRoom + Self.margin + ((rowWidths.max() ?? 0) - rowWidths[number]) / 2
            let y = Self.margin + 24 + number * (Self.boxHeight + Self.layerGap) + Self.layerGap / 2
            for slot in slots {
                let (title, subtitle) = Self.split(labels[slot.name] ?? slot.name)
                let final = diagram.finalStates.contains(slot.name)
                boxes[slot.name] = Box(
                    x: x, y: y, width: slot.boxWidth, height: Self.boxHeight, title: title, subtitle: subtitle,
                    titleX: x + slot.boxWidth / 2, titleY: y + (subtitle.isEmpty ? 28 : 20), subtitleY: y + 37, final: final,
                    innerX: x + 3, innerY: y + 3, innerWidth: slot.boxWidth - 6, innerHeight: Self.boxHeight - 6)
                x += slot.slotWidth + columnGap
            }
        }
        self.startX = width / 2
        self.startY = Self.margin + 8

        var arrows: [Arrow] = []
        // Several arrows into one box arrive side by side rather than at one point.
        var arrivals: [String: Int] = [:]
        for pair in pairs {
            guard let target = boxes[pair.to] else { continue }
            let label = pair.events.joined(separator: "、")
            let labelWidth = Self.textWidth(label, size: 11) + 8
            let incoming = pairs.filter { $0.to == pair.to && ($0.from.map { (layer[$0] ?? 0) < (layer[pair.to] ?? 0) } ?? true) }.count
            guard let from = pair.from, let source = boxes[from] else {
                // The creating event: from the start dot.
                let slot = arrivals[pair.to, default: 0]
                arrivals[pair.to] = slot + 1
                let endX = target.x + target.width * (slot + 1) / (incoming + 1)
                let endY = target.y
                arrows.append(Arrow(path: "M\(self.startX) \(self.startY + 6) L\(endX) \(endY - 2)", label: label,
                                    labelX: (self.startX + endX) / 2, labelY: (self.startY + endY) / 2 + 4, labelWidth: labelWidth,
                                    anchor: "middle", backX: (self.startX + endX) / 2 - labelWidth / 2, backY: (self.startY + endY) / 2 - 8))
                continue
            }
            if (layer[from] ?? 0) < (layer[pair.to] ?? 0) {
                let slot = arrivals[pair.to, default: 0]
                arrivals[pair.to] = slot + 1
                let startX = source.x + source.width / 2
                let startY = source.y + source.height
                let endX = target.x + target.width * (slot + 1) / (incoming + 1)
                let endY = target.y
                // The label sits nearer the target, clear of the arrows leaving the source's layer.
                let midX = startX + (endX - startX) * 3 / 5, midY = startY + (endY - startY) * 3 / 5
                arrows.append(Arrow(path: "M\(startX) \(startY) L\(endX) \(endY - 2)", label: label, labelX: midX, labelY: midY + 4,
                                    labelWidth: labelWidth, anchor: "middle", backX: midX - labelWidth / 2, backY: midY - 8))
            } else if layer[from] == layer[pair.to] {
                // Across one layer: a straight arrow to a neighbour, a curve under the boxes to one further away.
                let rightward = target.x > source.x
                let between = boxes.values.contains { box in
                    box.y == source.y && box.x > min(source.x, target.x) && box.x < max(source.x, target.x)
                }
                if !between {
                    let startX = rightward ? source.x + source.width : source.x
                    let endX = rightward ? target.x : target.x + target.width
                    let y = source.y + source.height / 2
                    let midX = (startX + endX) / 2
                    arrows.append(Arrow(path: "M\(startX) \(y) L\(endX + (rightward ? -2 : 2)) \(y)", label: label, labelX: midX,
                                        labelY: y - 8, labelWidth: labelWidth, anchor: "middle", backX: midX - labelWidth / 2, backY: y - 20))
                } else {
                    let startX = source.x + source.width / 2, endX = target.x + target.width / 2
                    let bottom = source.y + source.height
                    let dip = bottom + 28
                    let midX = (startX + endX) / 2
                    arrows.append(Arrow(path: "M\(startX) \(bottom) C\(startX) \(dip) \(endX) \(dip) \(endX) \(bottom + 2)", label: label,
                                        labelX: midX, labelY: bottom + 25, labelWidth: labelWidth, anchor: "middle",
                                        backX: midX - labelWidth / 2, backY: bottom + 13))
                }
            } else {
                // Back up a layer: a curve out to the left of both boxes.
                let startX = source.x, startY = source.y + source.height / 2
                let endX = target.x, endY = target.y + target.height / 2 + 6
                let bend = min(startX, endX) - 50
                let midY = (startY + endY) / 2
                arrows.append(Arrow(path: "M\(startX) \(startY) C\(bend) \(startY) \(bend) \(endY) \(endX - 2) \(endY)", label: label,
                                    labelX: bend + 8, labelY: midY + 4, labelWidth: labelWidth, anchor: "middle",
                                    backX: bend + 8 - labelWidth / 2, backY: midY - 8))
            }
        }
        for name in names {
            guard let events = loops[name], let box = boxes[name] else { continue }
            let right = box.x + box.width
            let top = box.y + 8, bottom = box.y + box.height - 8
            arrows.append(Arrow(path: "M\(right) \(top) C\(right + 26) \(top - 14) \(right + 26) \(bottom + 14) \(right + 2) \(bottom)",
                                label: "", labelX: 0, labelY: 0, labelWidth: 0, anchor: "start", backX: 0, backY: 0))
            for (offset, event) in events.enumerated() {
                let y = box.y + box.height / 2 - (events.count - 1) * Self.labelHeight / 2 + offset * Self.labelHeight + 4
                let labelWidth = Self.textWidth(event, size: 11) + 8
                arrows.append(Arrow(path: "", label: event, labelX: right + 24, labelY: y, labelWidth: labelWidth, anchor: "start",
                                    backX: right + 20, backY: y - 12))
            }
        }
        self.width = width
        self.height = Self.margin + 24 + layers.count * (Self.boxHeight + Self.layerGap) + Self.margin
        self.boxes = names.compactMap { boxes[$0] }
        self.arrows = arrows
    }
}
