import Glibc
import Testing
@testable import Agent

// The agent's TLS client against real `openssl s_server` processes using the
// committed test PKI (certs/README.md): the libarms 5.33 verification rules
// (pull.md §2.3, push.md §2.6, tunnel.md §3.1), timeouts and I/O.

private func lsConfiguration(identity: TLSClientIdentity? = nil) throws -> TLSClientConfiguration {
    try .locationServer(rootCA: certText("root-ca.pem"), identity: identity)
}

private func rsConfiguration(identity: TLSClientIdentity? = nil) throws -> TLSClientConfiguration {
    try .remoteServer(rsCertificate: certText("root-ca.pem"), identity: identity)
}

private func saIdentity() throws -> TLSClientIdentity {
    try TLSClientIdentity(certificatePEM: certText("sa.pem"), privateKeyPEM: certText("sa.key"))
}

/// Connects, sends one line, expects it back reversed (`s_server -rev`), closes.
private func roundTrip(_ server: OpenSSLServer, _ configuration: TLSClientConfiguration) throws -> TLSClientConnection {
    let connection = try TLSClientConnection.connect(to: server.address, configuration: configuration,
                                                     timeouts: testTimeouts)
    try connection.write(Array("hello transport\n".utf8), deadline: deadline(in: 10))
    let line = try readLine(from: connection)
    #expect(line == "tropsnart olleh\n")
    return connection
}

/// The error connecting throws (nil when it connected).
private func connectionError(_ address: SocketAddress, _ configuration: TLSClientConfiguration,
                             timeouts: TransportTimeouts) -> TransportError? {
    transportError {
        try TLSClientConnection.connect(to: address, configuration: configuration, timeouts: timeouts).close()
    }
}

@Suite(.blocksPoolThread) struct TransportTLSTests {
    // MARK: LS policy

    @Test(arguments: ["127.0.0.1", "::1"])
    func locationServerPolicyAcceptsLSCertificate(host: String) throws {
        let server = try OpenSSLServer(certificate: "ls", host: host)
        defer { server.stop() }
        let connection = try roundTrip(server, lsConfiguration())
        defer { connection.close() }
        #expect(connection.peerSubject == "/CN=Location Server 127.0.0.1")
        #expect(connection.protocolVersion == "TLSv1.3")
        #expect(!connection.cipherSuite.isEmpty)
        #expect(connection.ignoredValidityErrors == 0)
        #expect(connection.localAddress.family == (host == "::1" ? .ipv6 : .ipv4))
        #expect(connection.localAddress.host == host)
        #expect(connection.localAddress.port != 0 && connection.localAddress.port != server.port)
        #expect(connection.serverAddress == (try server.address))
    }

    @Test func locationServerPolicyRefusesWrongCA() throws {
        let server = try OpenSSLServer(certificate: "ls-wrong-ca")
        defer { server.stop() }
        let error = try connectionError(server.address, lsConfiguration(), timeouts: testTimeouts)
        guard case .verification(.x509(let code, _, let depth, let subject))? = error else {
            Issue.record("expected an X509 verification failure, got \(String(describing: error))")
            return
        }
        // The leaf names "ARMS Root CA" as issuer, but no trusted key signed it.
        #expect(code != 0)
        #expect(depth == 0)
        #expect(subject == "/CN=Location Server 127.0.0.1")
        #expect(error?.description.hasPrefix("verification failure of server certificate") == true)
        #expect(error?.logCode == 109)
        #expect(error?.phase == .handshake)
    }

    @Test func locationServerPolicyRefusesWrongCNWithNameRule() throws {
        let server = try OpenSSLServer(certificate: "ls-wrong-cn")
        defer { server.stop() }
        let error = try connectionError(server.address, lsConfiguration(), timeouts: testTimeouts)
        #expect(error == .verification(.locationServerName(subject: "/CN=Location Server", depth: 0)))
        #expect(error?.description.contains("CN=Location Server ") == true)
    }

    @Test(arguments: ["ls-expired", "ls-not-yet-valid"])
    func locationServerPolicyIgnoresValidityPeriod(certificate: String) throws {
        let server = try OpenSSLServer(certificate: certificate)
        defer { server.stop() }
        let connection = try roundTrip(server, lsConfiguration())
        defer { connection.close() }
        #expect(connection.ignoredValidityErrors >= 1)
    }

    @Test func locationServerPolicyRefusesRSCertificate() throws {
        // "/CN=Remote Server 127.0.0.1" is no LS name.
        let server = try OpenSSLServer(certificate: "rs")
        defer { server.stop() }
        let error = try connectionError(server.address, lsConfiguration(), timeouts: testTimeouts)
        #expect(error == .verification(.locationServerName(subject: "/CN=Remote Server 127.0.0.1", depth: 0)))
    }

    // MARK: RS policy

    @Test(arguments: ["127.0.0.1", "::1"])
    func remoteServerPolicyAcceptsRSCertificate(host: String) throws {
        let server = try OpenSSLServer(certificate: "rs", host: host)
        defer { server.stop() }
        let connection = try roundTrip(server, rsConfiguration())
        defer { connection.close() }
        #expect(connection.peerSubject == "/CN=Remote Server 127.0.0.1")
    }

    @Test func remoteServerPolicyRefusesWrongCA() throws {
        let server = try OpenSSLServer(certificate: "rs-wrong-ca")
        defer { server.stop() }
        let error = try connectionError(server.address, rsConfiguration(), timeouts: testTimeouts)
        guard case .verification(.x509)? = error else {
            Issue.record("expected an X509 verification failure, got \(String(describing: error))")
            return
        }
    }

    @Test func remoteServerPolicyHasNoNameRule() throws {
        let server = try OpenSSLServer(certificate: "ls-wrong-cn")
        defer { server.stop() }
        let connection = try roundTrip(server, rsConfiguration())
        connection.close()
    }

    @Test func remoteServerPolicyTrustsOnlyTheGivenCA() throws {
        // rs.pem chains to root-ca, not to other-ca (same name, other key).
        let server = try OpenSSLServer(certificate: "rs")
        defer { server.stop() }
        let configuration = try TLSClientConfiguration.remoteServer(rsCertificate: certText("other-ca.pem"))
        let error = try connectionError(server.address, configuration, timeouts: testTimeouts)
        guard case .verification(.x509)? = error else {
            Issue.record("expected an X509 verification failure, got \(String(describing: error))")
            return
        }
    }

    // MARK: protocol versions and client certificate

    @Test func tls12ServerIsAccepted() throws {
        let server = try OpenSSLServer(certificate: "rs", extra: ["-tls1_2"])
        defer { server.stop() }
        let connection = try roundTrip(server, rsConfiguration())
        defer { connection.close() }
        #expect(connection.protocolVersion == "TLSv1.2")
    }

    @Test func tls10OnlyServerIsRefused() throws {
        let server = try OpenSSLServer(certificate: "rs", extra: ["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"])
        defer { server.stop() }
        let error = try connectionError(server.address, rsConfiguration(), timeouts: testTimeouts)
        guard case .handshake(let reason)? = error else {
            Issue.record("expected a handshake failure, got \(String(describing: error))")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test func clientCertificateIsPresentedWhenAsked() throws {
        let server = try OpenSSLServer(certificate: "rs", extra: ["-Verify", "1", "-CAfile", "root-ca.pem"])
        defer { server.stop() }
        let connection = try roundTrip(server, rsConfiguration(identity: saIdentity()))
        defer { connection.close() }
        #expect(server.waitForOutput(containing: "CN = SA 0001-0000-0000-0000-0000-0000-0000-0001"),
                "s_server output: \(server.output)")
    }

    @Test func noClientCertificateWithoutIdentity() throws {
        let server = try OpenSSLServer(certificate: "rs", extra: ["-verify", "1", "-CAfile", "root-ca.pem"])
        defer { server.stop() }
        let connection = try roundTrip(server, rsConfiguration())
        defer { connection.close() }
        #expect(server.waitForOutput(containing: "No peer certificate"), "s_server output: \(server.output)")
    }

    @Test func invalidPEMIsRefusedUpFront() throws {
        #expect(transportError { try TLSClientConfiguration.remoteServer(rsCertificate: "not a certificate") }
                    == .invalidCertificate("the CA certificate is not a PEM certificate"))
        let saPEM = try certText("sa.pem")
        let rsKey = try certText("rs.key")
        let mismatch = transportError { try TLSClientIdentity(certificatePEM: saPEM, privateKeyPEM: rsKey) }
        #expect(mismatch == .invalidCertificate("the client private key does not match the certificate"))
        #expect(mismatch?.logCode == 106)
        #expect(transportError { try TLSClientIdentity(certificatePEM: saPEM, privateKeyPEM: "") }
                    == .invalidCertificate("the client private key is not a PEM private key"))
    }

    // MARK: connect failures and timeouts

    @Test func silentListenerTimesOutInHandshake() throws {
        let listener = try LoopbackSocket(listening: true)
        let timeouts = TransportTimeouts(connectAndHandshake: .milliseconds(700))
        let started = ContinuousClock.now
        let error = try connectionError(listener.address, rsConfiguration(), timeouts: timeouts)
        let elapsed = ContinuousClock.now - started
        #expect(error == .timeout(.handshake))
        #expect(elapsed >= .milliseconds(650) && elapsed < .seconds(5), "elapsed \(elapsed)")
        #expect(error?.description == "SSL Connection timeout. (TLS handshake)")
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func refusedPortGivesConnectError(host: String) throws {
        let closed = try LoopbackSocket(host: host, listening: false)
        let error = try connectionError(closed.address, rsConfiguration(), timeouts: testTimeouts)
        #expect(error == .connect(errno: ECONNREFUSED))
        #expect(error?.description.hasPrefix("Connect error (\(ECONNREFUSED)).") == true)
        #expect(error?.logCode == 103)
    }

    @Test func readTimesOutAtItsDeadline() throws {
        let server = try OpenSSLServer(certificate: "rs")
        defer { server.stop() }
        let connection = try TLSClientConnection.connect(to: server.address, configuration: rsConfiguration(),
                                                         timeouts: testTimeouts)
        defer { connection.abort() }
        let started = ContinuousClock.now
        let error = transportError {
            try connection.read(upTo: 100, deadline: .now + .milliseconds(300))
        }
        #expect(error == .timeout(.read))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    // MARK: I/O and closing

    @Test func manyLinesArriveAndComeBack() throws {
        let server = try OpenSSLServer(certificate: "rs")
        defer { server.stop() }
        let connection = try TLSClientConnection.connect(to: server.address, configuration: rsConfiguration(),
                                                         timeouts: testTimeouts)
        defer { connection.close() }
        // 64 lines of 1000 bytes in one write: several TLS records.
        var sent: [UInt8] = []
        var expected: [UInt8] = []
        for index in 0..<64 {
            let line = Array(String(repeating: "\(index % 10)abcdefghi", count: 100).utf8)
            sent += line + [0x0A]
            expected += line.reversed() + [0x0A]
        }
        try connection.write(sent, deadline: deadline(in: 20))
        var received: [UInt8] = []
        let limit = deadline(in: 20)
        while received.count < expected.count {
            let chunk = try connection.read(upTo: 8192, deadline: limit)
            if chunk.isEmpty { break }
            received += chunk
        }
        #expect(received == expected)
    }

    @Test func closeAndAbortEndTheConnection() throws {
        let server = try OpenSSLServer(certificate: "rs")
        defer { server.stop() }
        let first = try roundTrip(server, rsConfiguration())
        first.close()
        #expect(!first.isOpen)
        #expect(first.fileDescriptor == -1)
        #expect(transportError { try first.read(upTo: 1, deadline: .now) } == .closed)
        first.close()  // idempotent

        let second = try roundTrip(server, rsConfiguration())
        second.abort()
        #expect(!second.isOpen)
        #expect(transportError { try second.write([1]) } == .closed)
    }

    @Test func peerCloseReadsAsEndOfStream() throws {
        // s_server -rev ends the connection when it reads a line "CLOSE".
        let server = try OpenSSLServer(certificate: "rs")
        defer { server.stop() }
        let connection = try TLSClientConnection.connect(to: server.address, configuration: rsConfiguration(),
                                                         timeouts: testTimeouts)
        defer { connection.close() }
        try connection.write(Array("CLOSE\n".utf8))
        var received: [UInt8] = []
        let limit = deadline(in: 10)
        while true {
            let chunk = try connection.read(upTo: 1024, deadline: limit)
            if chunk.isEmpty { break }
            received += chunk
        }
        #expect(connection.isOpen)  // the stream ended; the object is closed by the caller
    }

    @Test func writeToVanishedPeerFailsWithoutSIGPIPE() throws {
        let server = try OpenSSLServer(certificate: "rs")
        let connection = try TLSClientConnection.connect(to: server.address, configuration: rsConfiguration(),
                                                         timeouts: testTimeouts)
        defer { connection.abort() }
        server.stop()  // the kernel closes the server's socket

        // Provoke the RST and consume its ECONNRESET with raw sends, so the next
        // write(2) inside SSL_write fails with EPIPE, which raises SIGPIPE.
        var rawError: Int32 = 0
        for _ in 0..<100 where rawError == 0 {
            let sent = [UInt8](repeating: 0, count: 100).withUnsafeBytes {
                send(connection.fileDescriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 { rawError = errno }
            var none = pollfd()
            _ = poll(&none, 0, 10)  // pace the attempts; the RST arrives almost at once
        }
        #expect(rawError == ECONNRESET || rawError == EPIPE)

        // With SIGPIPE at its default action, a raised SIGPIPE would end this process.
        let previous = signal(SIGPIPE, SIG_DFL)
        defer { signal(SIGPIPE, previous) }
        let failure = transportError { try connection.write(Array(repeating: 0x41, count: 1000)) }
        guard case .tls(let operation, let reason)? = failure else {
            Issue.record("expected an SSL_write failure, got \(String(describing: failure))")
            return
        }
        #expect(operation == "SSL_write")
        #expect(reason.contains("errno \(EPIPE)"), "\(reason)")
    }

    @Test(arguments: [true, false])
    func orderlyCloseSendsCloseNotifyAbortDoesNot(orderly: Bool) throws {
        // `-msg` makes s_server print every TLS message, alerts included.
        let server = try OpenSSLServer(certificate: "rs", extra: ["-msg"])
        defer { server.stop() }
        let connection = try roundTrip(server, rsConfiguration())
        if orderly { connection.close() } else { connection.abort() }
        #expect(server.waitForOutput(containing: "CONNECTION CLOSED"), "\(server.output)")
        #expect(server.output.contains("close_notify") == orderly, "\(server.output)")
    }
}
