import Foundation
import Testing

// Checks the committed test PKI in certs/ against the libarms 5.33 certificate
// rules (protocol/pull.md §2.3, §4.3, §9.1-9.2; push.md §2.6, §7.2;
// tunnel.md §3.1). The files are made by certs/make-certs.sh; see certs/README.md.
// Everything is checked with the openssl CLI, so nothing here depends on the
// TLS code of the mocks or the agent.

private let opensslPath = "/usr/bin/openssl"

private let certsDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Tests/Conformance
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // repository root
    .appendingPathComponent("certs", isDirectory: true)

private func certPath(_ name: String) -> String {
    certsDirectory.appendingPathComponent(name).path
}

private struct OpenSSLResult {
    var status: Int32
    /// stdout and stderr, interleaved.
    var output: String
}

/// Runs /usr/bin/openssl with `arguments` (relative paths resolve in certs/).
private func openssl(_ arguments: [String]) throws -> OpenSSLResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: opensslPath)
    process.arguments = arguments
    process.currentDirectoryURL = certsDirectory
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return OpenSSLResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// The one-line subject as X509_NAME_oneline() prints it (`/CN=...`), which is
/// what libarms' verify_ls_cn() searches.
private func onelineSubject(_ pem: String) throws -> String {
    let result = try openssl(["x509", "-in", pem, "-noout", "-subject", "-nameopt", "compat"])
    #expect(result.status == 0, "\(result.output)")
    return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        .replacingOccurrences(of: "subject=", with: "", options: .anchored)
}

private func onelineIssuer(_ pem: String) throws -> String {
    let result = try openssl(["x509", "-in", pem, "-noout", "-issuer", "-nameopt", "compat"])
    #expect(result.status == 0, "\(result.output)")
    return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        .replacingOccurrences(of: "issuer=", with: "", options: .anchored)
}

/// libarms verify_ls_cn(): every certificate of an LS chain must contain one of these.
private func passesLSNameRule(_ oneline: String) -> Bool {
    oneline.contains("CN=ARMS Root CA") || oneline.contains("CN=Location Server ")
}

private func verify(_ leaf: String, caFile: String, ignoringTime: Bool = false) throws -> OpenSSLResult {
    var arguments = ["verify", "-CAfile", caFile]
    if ignoringTime { arguments.append("-no_check_time") }
    arguments.append(leaf)
    return try openssl(arguments)
}

private func publicKey(ofCertificate pem: String) throws -> String {
    let result = try openssl(["x509", "-in", pem, "-noout", "-pubkey"])
    #expect(result.status == 0, "\(result.output)")
    return result.output
}

private func publicKey(ofPrivateKey key: String) throws -> String {
    let result = try openssl(["pkey", "-in", key, "-pubout"])
    #expect(result.status == 0, "\(result.output)")
    return result.output
}

private let opensslAvailable = FileManager.default.isExecutableFile(atPath: opensslPath)

/// Every certificate in certs/, each with its key NAME.key.
private let allCertificates = [
    "root-ca", "ls", "rs", "sa",
    "other-ca", "ls-wrong-ca", "rs-wrong-ca", "ls-wrong-cn", "ls-expired", "ls-not-yet-valid",
]
/// Issued directly by root-ca.pem, currently valid.
private let goodLeaves = ["ls", "rs", "sa"]
/// Issued by root-ca.pem; a libarms client accepts them as far as the chain is concerned.
private let rootIssuedLeaves = ["ls", "rs", "sa", "ls-wrong-cn", "ls-expired", "ls-not-yet-valid"]
/// Issued by other-ca.pem (also named "ARMS Root CA"): refused by a client trusting root-ca.pem.
private let wrongCALeaves = ["ls-wrong-ca", "rs-wrong-ca"]
/// Server certificates for 127.0.0.1 / ::1.
private let serverLeaves = ["ls", "rs", "sa", "ls-wrong-ca", "rs-wrong-ca", "ls-wrong-cn", "ls-expired", "ls-not-yet-valid"]

@Suite(.enabled(if: opensslAvailable, "needs /usr/bin/openssl"))
struct CertificateTests {
    // MARK: root CA

    @Test func rootIsSelfSignedARMSRootCA() throws {
        #expect(try onelineSubject("root-ca.pem") == "/CN=ARMS Root CA")
        #expect(try onelineIssuer("root-ca.pem") == "/CN=ARMS Root CA")
        #expect(try verify("root-ca.pem", caFile: "root-ca.pem").status == 0)
        let ext = try openssl(["x509", "-in", "root-ca.pem", "-noout", "-ext", "basicConstraints,keyUsage"])
        #expect(ext.status == 0, "\(ext.output)")
        #expect(ext.output.contains("CA:TRUE"))
        #expect(ext.output.contains("Certificate Sign"))
    }

    @Test func otherCAHasSameNameButDifferentKey() throws {
        #expect(try onelineSubject("other-ca.pem") == "/CN=ARMS Root CA")
        #expect(try onelineIssuer("other-ca.pem") == "/CN=ARMS Root CA")
        #expect(try publicKey(ofCertificate: "other-ca.pem") != publicKey(ofCertificate: "root-ca.pem"))
        #expect(try verify("other-ca.pem", caFile: "root-ca.pem").status != 0)
    }

    /// pull.md §4.3: Location-Config #0 = line block + rs-certificate (the root PEM), < 2048 bytes.
    @Test func rootFitsInLocationConfig() throws {
        let pem = try String(contentsOfFile: certPath("root-ca.pem"), encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        #expect(pem.hasSuffix("-----END CERTIFICATE-----\n"))
        #expect(pem.components(separatedBy: "-----BEGIN").count == 2, "exactly one certificate")
        let config = "line-dhcp {\n ifindex 0;\n};\nrs-certificate {\n" + pem + "};\n"
        let bytes = Array(config.utf8)
        #expect(bytes.count < 2048, "Location-Config is \(bytes.count) bytes")
        #expect(bytes.allSatisfy { $0 < 0x80 && $0 != 0x0D && $0 != 0x09 }, "ASCII, no CR, no tab")
        #expect(config.split(separator: "\n").allSatisfy { $0.utf8.count < 256 }, "lines < 256 bytes")
    }

    // MARK: chains

    @Test(arguments: goodLeaves)
    func goodLeafVerifiesAgainstRoot(name: String) throws {
        let result = try verify("\(name).pem", caFile: "root-ca.pem")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(name).pem: OK"))
        #expect(try onelineIssuer("\(name).pem") == "/CN=ARMS Root CA")
    }

    /// libarms ignores only validity-period errors, so all of these chain
    /// successfully for a conforming client.
    @Test(arguments: rootIssuedLeaves)
    func rootIssuedLeafVerifiesIgnoringTime(name: String) throws {
        let result = try verify("\(name).pem", caFile: "root-ca.pem", ignoringTime: true)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(arguments: wrongCALeaves)
    func wrongCALeafDoesNotVerifyAgainstRoot(name: String) throws {
        #expect(try onelineIssuer("\(name).pem") == "/CN=ARMS Root CA", "same issuer name, other key")
        #expect(try verify("\(name).pem", caFile: "root-ca.pem").status != 0)
        #expect(try verify("\(name).pem", caFile: "root-ca.pem", ignoringTime: true).status != 0)
        // The only fault is the CA: against other-ca.pem the chain is fine.
        let other = try verify("\(name).pem", caFile: "other-ca.pem")
        #expect(other.status == 0, "\(other.output)")
    }

    @Test func rsAndSADoNotVerifyAgainstOtherCA() throws {
        #expect(try verify("rs.pem", caFile: "other-ca.pem").status != 0)
        #expect(try verify("sa.pem", caFile: "other-ca.pem").status != 0)
    }

    // MARK: LS name rule (verify_ls_cn)

    @Test func lsSubjectsFollowTheNameRule() throws {
        for name in ["ls", "ls-expired", "ls-not-yet-valid", "ls-wrong-ca"] {
            let subject = try onelineSubject("\(name).pem")
            #expect(subject == "/CN=Location Server 127.0.0.1", "\(name)")
            #expect(subject.contains("CN=Location Server "), "\(name)")
        }
        // Every member of the (two-certificate) chain passes.
        #expect(passesLSNameRule(try onelineSubject("ls.pem")))
        #expect(passesLSNameRule(try onelineSubject("root-ca.pem")))
    }

    @Test func wrongCNFailsTheNameRuleOnly() throws {
        let subject = try onelineSubject("ls-wrong-cn.pem")
        #expect(subject == "/CN=Location Server", "no trailing space")
        #expect(!subject.contains("CN=Location Server "))
        #expect(!passesLSNameRule(subject))
        // The chain itself is good: only the name rule refuses it.
        #expect(try verify("ls-wrong-cn.pem", caFile: "root-ca.pem").status == 0)
    }

    @Test func rsAndSAHaveTheExpectedSubjects() throws {
        #expect(try onelineSubject("rs.pem") == "/CN=Remote Server 127.0.0.1")
        #expect(try onelineSubject("rs-wrong-ca.pem") == "/CN=Remote Server 127.0.0.1")
        #expect(try onelineSubject("sa.pem") == "/CN=SA 0001-0000-0000-0000-0000-0000-0000-0001")
    }

    // MARK: extensions

    @Test(arguments: serverLeaves)
    func serverLeafHasLoopbackSANsAndServerAuth(name: String) throws {
        let result = try openssl([
            "x509", "-in", "\(name).pem", "-noout", "-ext", "subjectAltName,extendedKeyUsage,basicConstraints",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("IP Address:127.0.0.1"), "\(result.output)")
        #expect(result.output.contains("IP Address:0:0:0:0:0:0:0:1"), "\(result.output)")
        #expect(result.output.contains("TLS Web Server Authentication"), "\(result.output)")
        #expect(result.output.contains("CA:FALSE"), "\(result.output)")
    }

    @Test(arguments: ["sa", "rs"])
    func saAndRSAlsoAllowClientAuth(name: String) throws {
        let result = try openssl(["x509", "-in", "\(name).pem", "-noout", "-ext", "extendedKeyUsage"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("TLS Web Client Authentication"), "\(result.output)")
    }

    // MARK: validity

    @Test(arguments: ["root-ca", "ls", "rs", "sa", "other-ca", "ls-wrong-ca", "rs-wrong-ca", "ls-wrong-cn"])
    func goodCertificatesStayValidForDecades(name: String) throws {
        // -checkend takes seconds; 2e9 s is about 63 years.
        let result = try openssl(["x509", "-in", "\(name).pem", "-noout", "-checkend", "2000000000"])
        #expect(result.status == 0, "\(result.output)")
        let dates = try openssl(["x509", "-in", "\(name).pem", "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601"])
        #expect(dates.output.contains("notBefore=2020-01-01 00:00:00Z"), "\(dates.output)")
        #expect(dates.output.contains("notAfter=2125-12-31 23:59:59Z"), "\(dates.output)")
    }

    @Test func expiredLSIsExpiredButChainsIgnoringTime() throws {
        let checkend = try openssl(["x509", "-in", "ls-expired.pem", "-noout", "-checkend", "0"])
        #expect(checkend.status == 1, "\(checkend.output)")
        let dates = try openssl(["x509", "-in", "ls-expired.pem", "-noout", "-enddate", "-dateopt", "iso_8601"])
        #expect(dates.output.contains("notAfter=2001-01-01 00:00:00Z"), "\(dates.output)")
        let strict = try verify("ls-expired.pem", caFile: "root-ca.pem")
        #expect(strict.status != 0)
        #expect(strict.output.contains("certificate has expired"), "\(strict.output)")
        // libarms ignores X509_V_ERR_CERT_HAS_EXPIRED: a conforming client accepts it.
        #expect(try verify("ls-expired.pem", caFile: "root-ca.pem", ignoringTime: true).status == 0)
    }

    @Test func notYetValidLSIsNotYetValidButChainsIgnoringTime() throws {
        let dates = try openssl(["x509", "-in", "ls-not-yet-valid.pem", "-noout", "-startdate", "-dateopt", "iso_8601"])
        #expect(dates.output.contains("notBefore=2120-01-01 00:00:00Z"), "\(dates.output)")
        let strict = try verify("ls-not-yet-valid.pem", caFile: "root-ca.pem")
        #expect(strict.status != 0)
        #expect(strict.output.contains("certificate is not yet valid"), "\(strict.output)")
        #expect(try verify("ls-not-yet-valid.pem", caFile: "root-ca.pem", ignoringTime: true).status == 0)
    }

    // MARK: keys

    @Test(arguments: allCertificates)
    func keyMatchesCertificate(name: String) throws {
        let certificateKey = try publicKey(ofCertificate: "\(name).pem")
        #expect(certificateKey.contains("-----BEGIN PUBLIC KEY-----"))
        #expect(try publicKey(ofPrivateKey: "\(name).key") == certificateKey)
    }

    @Test(arguments: allCertificates)
    func everythingIsUnencryptedRSA2048WithSHA256(name: String) throws {
        let key = try String(contentsOfFile: certPath("\(name).key"), encoding: .utf8)
        #expect(key.hasPrefix("-----BEGIN PRIVATE KEY-----\n"), "unencrypted PKCS#8 PEM")
        let keyText = try openssl(["pkey", "-in", "\(name).key", "-noout", "-text", "-passin", "pass:"])
        #expect(keyText.status == 0, "\(keyText.output)")
        #expect(keyText.output.contains("Private-Key: (2048 bit"), "\(keyText.output.prefix(80))")
        let certificateText = try openssl(["x509", "-in", "\(name).pem", "-noout", "-text"])
        #expect(certificateText.output.contains("Public Key Algorithm: rsaEncryption"))
        #expect(certificateText.output.contains("Public-Key: (2048 bit)"))
        #expect(certificateText.output.contains("Signature Algorithm: sha256WithRSAEncryption"))
    }

    @Test func saKeyMatchesSACertificate() throws {
        #expect(try publicKey(ofPrivateKey: "sa.key") == publicKey(ofCertificate: "sa.pem"))
        #expect(try publicKey(ofPrivateKey: "sa.key") != publicKey(ofCertificate: "ls.pem"))
    }
}
