import Foundation

/// Splits a SQL script into statements, since the extended query protocol runs one at a time.
///
/// Understands `--` and `/* */` comments, quoted strings and identifiers, and dollar-quoted
/// bodies (`$$ … $$`, `$fn$ … $fn$`), so semicolons inside functions stay put.
enum SQLScript {
    static func statements(in script: String) -> [String] {
        let characters = Array(script)
        var statements: [String] = []
        var current = ""
        var index = 0

        func flush() {
            let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty, !Self.isOnlyComments(trimmed) { statements.append(trimmed) }
            current = ""
        }

        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            if character == "-", next == "-" {
                while index < characters.count, characters[index] != "\n" {
                    current.append(characters[index])
                    index += 1
                }
                continue
            }
            if character == "/", next == "*" {
                while index < characters.count, !(characters[index] == "*" && index + 1 < characters.count && characters[index + 1] == "/") {
                    current.append(characters[index])
                    index += 1
                }
                if index < characters.count { current.append("*/"); index += 2 }
                continue
            }
            if character == "'" || character == "\"" {
                current.append(character)
                index += 1
                while index < characters.count {
                    current.append(characters[index])
                    if characters[index] == character { index += 1; break }
                    index += 1
                }
                continue
            }
            if character == "$", let tag = Self.dollarTag(characters, at: index) {
                current.append(contentsOf: tag)
                index += tag.count
                while index < characters.count {
                    if characters[index] == "$", Self.dollarTag(characters, at: index) == tag {
                        current.append(contentsOf: tag)
                        index += tag.count
                        break
                    }
                    current.append(characters[index])
                    index += 1
                }
                continue
            }
            if character == ";" {
                flush()
                index += 1
                continue
            }
            current.append(character)
            index += 1
        }
        flush()
        return statements
    }

    private static func dollarTag(_ characters: [Character], at start: Int) -> String? {
        var index = start + 1
        var tag = "$"
        while index < characters.count {
            let character = characters[index]
            if character == "$" { return tag + "$" }
            guard character.isLetter || character == "_" || (character.isNumber && index > start + 1) else { return nil }
            tag.append(character)
            index += 1
        }
        return nil
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
    }
}
