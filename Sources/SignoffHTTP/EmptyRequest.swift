/// A body with no fields (`{}` or none at all); any field is refused as unknown.
struct EmptyRequest: StrictRequest {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case _none = ""
    }

    init(from decoder: any Decoder) throws {}
}
