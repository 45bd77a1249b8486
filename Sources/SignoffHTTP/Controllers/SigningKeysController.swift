import Foundation
import Hummingbird
import SignoffCore
import SignoffStore

/// `GET /.well-known/signoff-keys`: the township's public signing keys, for checking signed
/// credentials offline. No sign-in: anyone may check a pass.
struct SigningKeysController {
    let keys: SigningKeys

    struct PublishedKey: Encodable {
        var kid: String
        var alg = "Ed25519"
        var publicKey: String
        var notBefore: Date
        var notAfter: Date?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kid
            case alg
            case publicKey = "public_key"
            case notBefore = "not_before"
            case notAfter = "not_after"
        }
    }

    struct KeyList: Encodable {
        var keys: [PublishedKey]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case keys
        }
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/.well-known/signoff-keys") { _, _ in
            let list = KeyList(keys: self.keys.published.map {
                PublishedKey(kid: $0.keyID, publicKey: $0.publicKey, notBefore: $0.notBefore, notAfter: $0.notAfter)
            })
            var response = try JSONBody.response(list)
            // Checkpoints cache the list (the service worker keeps it offline); a rotation reaches them within minutes.
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }
    }
}
