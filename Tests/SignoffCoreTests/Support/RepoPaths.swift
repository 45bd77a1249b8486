import Foundation

/// Files of the repository, found from this source file so tests run from any directory.
enum RepoPaths {
    /// The repository root: this file is `Tests/SignoffCoreTests/Support/RepoPaths.swift`.
    static let root: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let workflows = root.appendingPathComponent("workflows")
    static let diagrams = workflows.appendingPathComponent("diagrams")
}
