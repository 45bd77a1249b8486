import Foundation
import Hummingbird
import MultipartKit
import NIOCore
import SignoffCore

/// A submitted `multipart/form-data` form (a file upload), parsed with MultipartKit and checked
/// for its CSRF token like every other form.
struct WebUpload {
    struct File {
        var filename: String
        var body: ByteBuffer
    }

    var form: WebForm
    var files: [String: File]

    static func read(_ request: Request, csrf: String, maxSize: Int) async throws -> WebUpload {
        guard let type = request.headers[.contentType], let boundary = Self.boundary(type) else {
            throw SignoffError.invalidValue("file", "Send the file as multipart/form-data.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxSize)
        } catch {
            throw SignoffError(.payloadTooLarge, "The upload is larger than \(maxSize / 1024 / 1024) MiB.")
        }
        let upload = try Self.parse(buffer, boundary: boundary)
        _ = try WebForm.checked(upload.form, csrf: csrf)
        return upload
    }

    /// The `boundary` parameter of a `multipart/form-data` content type.
    static func boundary(_ contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() where part.lowercased().hasPrefix("boundary=") {
            let value = part.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (1...70).contains(value.count) ? value : nil
        }
        return nil
    }

    /// The `filename` of a part's Content-Disposition; a part with one is a file.
    static func filename(_ disposition: String) -> String? {
        for item in disposition.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) })
            where item.lowercased().hasPrefix("filename=") {
            return item.dropFirst("filename=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    static func parse(_ buffer: ByteBuffer, boundary: String) throws -> WebUpload {
        let parser = MultipartParser(boundary: boundary)
        var parts: [MultipartPart] = []
        var headers = HTTPHeaders()
        var body = ByteBuffer()
        parser.onHeader = { field, value in headers.replaceOrAdd(name: field, value: value) }
        parser.onBody = { new in body.writeBuffer(&new) }
        parser.onPartComplete = {
            parts.append(MultipartPart(headers: headers, body: body))
            headers = HTTPHeaders()
            body = ByteBuffer()
        }
        do {
            try parser.execute(buffer)
        } catch {
            throw SignoffError.invalidValue("file", "The upload could not be read as multipart/form-data.")
        }
        var fields: [(name: String, value: String)] = []
        var files: [String: File] = [:]
        for part in parts {
            guard let name = part.name else { continue }
            if let filename = Self.filename(part.headers.first(name: "Content-Disposition") ?? "") {
                files[name] = File(filename: filename, body: part.body)
            } else {
                fields.append((name, String(buffer: part.body).replacingOccurrences(of: "\u{0}", with: "")))
            }
        }
        return WebUpload(form: WebForm(fields: fields), files: files)
    }
}
