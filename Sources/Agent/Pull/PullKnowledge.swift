/// What an agent knows about its Remote Servers: learnt from the LS, kept across
/// pulls, saved in the state cache (agent.md §9.1) and restored at start.
public struct PullKnowledge: Equatable, Sendable {
    /// The RS that answered the last successful config-solicitation. Non-empty = the LS may be skipped.
    public var rsEndpoint: String?
    public var rsPresharedKey: String = ""
    public var rsRetryMax: Int = 0
    public var rsRetryInterval: Int = 0
    public var llTimeout: Int = 0
    /// Line blocks of Location-Config #0.
    public var lines: [LineDefinition] = []
    /// Index into `lines` of the line that last reached the RS.
    public var lastLine: Int = 0
    /// RS pull URLs from the LS.
    public var rsURLs: [String] = []
    /// `rs-certificate` of each Location-Config; only the first is used as the trust anchor.
    public var rsCertificates: [String?] = []
    /// Index of the RS used last; the next transaction starts there.
    public var currentServer: Int = 0

    public init() {}

    /// The CA every RS is verified against: the `rs-certificate` of Location-Config #0.
    public var rsTrustAnchor: String? { rsCertificates.first ?? nil }

    /// Forgets everything learnt from the LS (done before every LS pull).
    mutating func forgetRemoteServers() {
        let key = rsPresharedKey
        self = PullKnowledge()
        // libarms keeps the RS key when a later LS answer omits it.
        rsPresharedKey = key
    }
}
