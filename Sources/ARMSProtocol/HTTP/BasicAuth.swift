/// HTTP Basic credentials as ARMS uses them: the user is the distribution id
/// string and the password is the key of the server being addressed (`ls-sa-key`
/// for the LS, `rs-preshared-key` for the RS, push-method-query and tunnels).
/// See pull.md §2.5 and push.md §2.6.
public struct BasicCredentials: Hashable, Sendable {
    /// The user part (for ARMS: the upper-case distribution id).
    public var user: String
    /// The password part (the key). May contain `:`.
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// Credentials for an SA: its distribution id (canonical upper-case text) and a key.
    public init(distributionID: DistributionID, key: String) {
        self.init(user: distributionID.description, password: key)
    }

    /// The `Authorization` header value: `Basic base64(user:password)`
    /// (UTF-8 bytes of the joined text, base64 without line breaks).
    public var headerValue: String {
        "Basic " + Base64.encodeToString(Array((user + ":" + password).utf8))
    }

    /// Parses an `Authorization` header value of the form `Basic <base64>`.
    ///
    /// The scheme name is matched without regard to case; spaces and tabs
    /// around it and around the base64 text are ignored. The decoded
    /// text must be UTF-8 and is split at its **first** colon, so the password
    /// may itself contain colons.
    public init(parsingHeaderValue value: String) throws(BasicAuthError) {
        let bytes = ByteText.trimmed(ArraySlice(ByteText.bytes(value)))
        let schemeEnd = bytes.firstIndex { $0 == ByteText.space || $0 == ByteText.tab } ?? bytes.endIndex
        guard ByteText.equalsIgnoringCase(ByteText.string(bytes[..<schemeEnd]), "Basic") else { throw .notBasic }
        let encoded = ByteText.trimmed(bytes[schemeEnd...])
        guard !encoded.isEmpty else { throw .emptyCredentials }
        let decoded: [UInt8]
        do throws(Base64.DecodeError) { decoded = try Base64.decode(encoded) } catch { throw .invalidBase64(error) }
        guard let colon = decoded.firstIndex(of: ByteText.colon) else { throw .missingColon }
        guard let user = String(validating: decoded[..<colon], as: UTF8.self),
              let password = String(validating: decoded[(colon + 1)...], as: UTF8.self)
        else { throw .notUTF8 }
        self.init(user: user, password: password)
    }
}

/// Why an `Authorization` header value could not be read as Basic credentials.
public enum BasicAuthError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The value does not start with the scheme name `Basic`.
    case notBasic
    /// Nothing follows the scheme name.
    case emptyCredentials
    /// The credentials are not valid base64.
    case invalidBase64(Base64.DecodeError)
    /// The decoded credentials contain no `:` between user and password.
    case missingColon
    /// The decoded user or password is not valid UTF-8.
    case notUTF8

    public var description: String {
        switch self {
        case .notBasic: return "Authorization: not the Basic scheme"
        case .emptyCredentials: return "Authorization: Basic without credentials"
        case .invalidBase64(let e): return "Authorization: \(e)"
        case .missingColon: return "Authorization: decoded credentials have no ':'"
        case .notUTF8: return "Authorization: decoded credentials are not UTF-8"
        }
    }
}
