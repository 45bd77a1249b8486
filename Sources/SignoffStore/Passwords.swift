import HummingbirdBcrypt
import NIOPosix

/// bcrypt, off the event loops: a hash at cost 12 takes about a quarter of a second, and Swift
/// concurrency's jobs run on the event loops that do the service's I/O (`signoff serve`), so
/// a login computed there would hold up every connection of its loop.
enum Passwords {
    static func hash(_ password: String, cost: UInt8) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
