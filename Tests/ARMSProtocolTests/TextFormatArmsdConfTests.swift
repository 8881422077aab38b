import Testing
@testable import ARMSProtocol

@Suite struct TextFormatArmsdConfTests {
    typealias Conf = ArmsdConfiguration
    typealias Reason = ArmsdConfiguration.ParseError.Reason

    /// A file in the style of armsd's sample and the MA-E3xx one: tabs after the colons,
    /// commented-out keys.
    static let sample = """
        distribution-id:\t0001-0000-0101-0000-0000-0000-dead-beef
        ls-sa-key:\t\tdeadbeef
        #sa-model-name:\tMA-E3xx
        #sa-version:\t\t1.0

        path-iconfig:\t\t/etc/armsd/initial-config
        path-state-cache:\t/var/cache/armsd/state
        #https-proxy-url:\thttp://192.168.0.1:8080/

        hb-disk-usage0:\t\t/
        hb-traffic-if0:\t\teth0

        script-app-event:\t/etc/armsd/scripts/app-event
        script-clear:\t\t/etc/armsd/scripts/clear
        script-command:\t\t/etc/armsd/scripts/command
        script-post-pull:\t/etc/armsd/scripts/post-pull
        script-reconfig:\t/etc/armsd/scripts/reconfig
        script-start:\t\t/etc/armsd/scripts/start
        script-status:\t\t/etc/armsd/scripts/status
        script-stop:\t\t/etc/armsd/scripts/stop
        script-reboot:\t\t/etc/armsd/scripts/reboot
        script-line-ctrl:\t/etc/armsd/scripts/line
        script-state-changed:\t/etc/armsd/scripts/state-changed

        """

    @Test func sampleFile() throws {
        let (conf, warnings) = try Conf.parse(Self.sample)
        #expect(warnings.isEmpty)
        #expect(conf.distributionID?.description == "0001-0000-0101-0000-0000-0000-DEAD-BEEF")
        #expect(conf.lsSAKey == "deadbeef")
        #expect(conf.saModelName == "armsd" && conf.saVersion == nil)
        #expect(conf.pathIConfig == "/etc/armsd/initial-config")
        #expect(conf.pathRootCA == nil)
        #expect(conf.httpsProxyURL == nil)
        #expect(conf.scripts.count == 11)
        #expect(conf.scripts[.lineCtrl] == "/etc/armsd/scripts/line")
        #expect(conf.scripts[.debug] == nil)
        #expect(conf.timeout == 30)
    }

    @Test func emptyFileGivesEveryDefault() throws {
        let (conf, warnings) = try Conf.parse("")
        #expect(warnings.isEmpty)
        #expect(conf == Conf())
        #expect(conf.distributionID == nil)
        #expect(conf.lsSAKey == "")
        #expect(conf.saModelName == "armsd")
        #expect(conf.saVersion == nil)
        #expect(conf.pathIConfig == nil && conf.pathRootCA == nil)
        #expect(conf.pathStateCache == "/var/cache/armsd/state")
        #expect(conf.pathPID == "/var/run/armsd.pid")
        #expect(conf.httpsProxyURL == nil && conf.httpsProxyURLLS == nil && conf.httpsProxyURLRS == nil)
        #expect(conf.appEventInterval == 300)
        #expect(conf.timeout == 30)
        #expect(conf.binary == 0)
        #expect(conf.hbDiskUsage0 == "/" && conf.hbDiskUsage1 == nil && conf.hbDiskUsage2 == nil)
        #expect(conf.hbTrafficIf0 == "eth0" && conf.hbTrafficIf1 == "eth1" && conf.hbTrafficIf2 == "eth2")
        #expect(conf.hbTrafficIf3 == nil)
        #expect(conf.hbDummy == 0)
        #expect(conf.scripts.isEmpty)
    }

    @Test func everyKey() throws {
        var text = """
            distribution-id: 0001-0000-1234-0200-0000-0000-0000-0042
            ls-sa-key: LsSaKeyExample123
            sa-model-name: MA-E350
            sa-version: 2.1.0
            path-iconfig: /etc/armsd/initial-config
            path-root-ca: /etc/armsd/ca.pem
            path-state-cache: /tmp/state
            path-pid: /tmp/armsd.pid
            https-proxy-url: http://192.168.0.1:8080/
            https-proxy-url-ls:
            https-proxy-url-rs: http://[2001:db8::8]:3128/
            app-event-interval: -1
            timeout: 0
            binary: 1
            hb-disk-usage0: /data
            hb-disk-usage1: /var
            hb-disk-usage2: /tmp
            hb-traffic-if0: wwan0
            hb-traffic-if1: lan0
            hb-traffic-if2: lan1
            hb-traffic-if3: lan2
            hb-dummy: 1

            """
        for script in Conf.Script.allCases { text += "\(script.rawValue): /s/\(script.rawValue)\n" }
        let (conf, warnings) = try Conf.parse(text)
        #expect(warnings.isEmpty)
        #expect(conf.distributionID == DistributionID(version: 1, vendorCode: 0x1234, saType: 0x0200, saCode: 0x42))
        #expect(conf.lsSAKey == "LsSaKeyExample123")
        #expect(conf.saModelName == "MA-E350" && conf.saVersion == "2.1.0")
        #expect(conf.pathIConfig == "/etc/armsd/initial-config" && conf.pathRootCA == "/etc/armsd/ca.pem")
        #expect(conf.pathStateCache == "/tmp/state" && conf.pathPID == "/tmp/armsd.pid")
        let proxy = try ARMSURL(parsing: "http://192.168.0.1:8080/")
        #expect(conf.httpsProxyURL == proxy)
        #expect(conf.httpsProxyURLLS == .noProxy)
        #expect(conf.httpsProxyURLRS == .proxy(try ARMSURL(parsing: "http://[2001:db8::8]:3128/")))
        #expect(conf.appEventInterval == -1 && conf.timeout == 0 && conf.binary == 1 && conf.hbDummy == 1)
        #expect([conf.hbDiskUsage0, conf.hbDiskUsage1, conf.hbDiskUsage2] == ["/data", "/var", "/tmp"])
        #expect([conf.hbTrafficIf0, conf.hbTrafficIf1, conf.hbTrafficIf2, conf.hbTrafficIf3] == ["wwan0", "lan0", "lan1", "lan2"])
        #expect(conf.scripts.count == 12)
        for script in Conf.Script.allCases { #expect(conf.scripts[script] == "/s/\(script.rawValue)") }
        #expect(try Conf.parse(conf.encoded()).configuration == conf)
    }

    @Test func syntaxRules() throws {
        let text = "  # comment\n\t\n timeout :\t 45 \r\nhttps-proxy-url: http://10.0.0.1:8080/x:y\n"
            + "script-start: /a # not a comment\npath-pid:\ntimeout: 60\n"
        let (conf, warnings) = try Conf.parse(text)
        #expect(warnings.isEmpty)
        #expect(conf.timeout == 60)  // last one wins
        #expect(conf.httpsProxyURL?.path == "x:y")  // split at the first colon only
        #expect(conf.scripts[.start] == "/a # not a comment")
        #expect(conf.pathPID == "")  // an empty value is kept
    }

    @Test func unknownNamesAndLinesWithoutColonAreWarnings() throws {
        let text = "hb-disk-usage: /\nscript-state-changed\t/etc/armsd/scripts/state-changed\n: x\ntimeout: 5\n"
        let (conf, warnings) = try Conf.parse(text)
        #expect(conf.timeout == 5)
        #expect(warnings == [
            .unknownParameter(line: 1, name: "hb-disk-usage", value: "/"),
            .missingColon(line: 2, text: "script-state-changed\t/etc/armsd/scripts/state-changed"),
            .unknownParameter(line: 3, name: "", value: "x"),
        ])
        #expect(warnings[0].description == "warning: unknown configuration parameter: hb-disk-usage=/")
        #expect(warnings[2].description == "warning: unknown configuration parameter: =x")
    }

    @Test func proxyFallback() throws {
        let url = try ARMSURL(parsing: "http://192.0.2.8:3128/")
        var conf = Conf()
        #expect(conf.proxyForLSPull == nil && conf.proxyForRSPull == nil)
        conf.httpsProxyURL = url
        #expect(conf.proxyForLSPull == .proxy(url) && conf.proxyForRSPull == .proxy(url))
        conf.httpsProxyURLLS = .noProxy
        #expect(conf.proxyForLSPull == .noProxy && conf.proxyForRSPull == .proxy(url))
    }

    // MARK: Errors

    static let rejected: [(String, Int, String, Reason)] = [
        ("timeout: abc", 1, "timeout", .notAnInteger("abc")),
        ("timeout: -5", 1, "timeout", .negative("-5")),
        ("timeout:", 1, "timeout", .notAnInteger("")),
        ("app-event-interval: 0.5", 1, "app-event-interval", .notAnInteger("0.5")),
        ("binary: yes", 1, "binary", .notAnInteger("yes")),
        ("hb-dummy: 99999999999", 1, "hb-dummy", .notAnInteger("99999999999")),
        ("distribution-id: 1-2-3-4-5-6-7-8", 1, "distribution-id",
         .invalidDistributionID("1-2-3-4-5-6-7-8", .badGroup(index: 0, text: "1"))),
        ("distribution-id:", 1, "distribution-id", .invalidDistributionID("", .wrongLength(0))),
        ("ls-sa-key: " + String(repeating: "k", count: 65), 1, "ls-sa-key", .tooLong(String(repeating: "k", count: 65), max: 64)),
        ("sa-model-name: " + String(repeating: "m", count: 33), 1, "sa-model-name", .tooLong(String(repeating: "m", count: 33), max: 32)),
        ("sa-version: " + String(repeating: "v", count: 33), 1, "sa-version", .tooLong(String(repeating: "v", count: 33), max: 32)),
        ("https-proxy-url: http://proxy.example:8080/", 1, "https-proxy-url",
         .invalidProxyURL("http://proxy.example:8080/", .hostNotNumeric("proxy.example"))),
        ("https-proxy-url:", 1, "https-proxy-url", .invalidProxyURL("", .unsupportedScheme(""))),
        ("# ok\nhttps-proxy-url-ls: 192.0.2.1:8080", 2, "https-proxy-url-ls",
         .invalidProxyURL("192.0.2.1:8080", .unsupportedScheme("192.0.2.1:8080"))),
        ("\n\nhttps-proxy-url-rs: https://[::1]", 3, "https-proxy-url-rs",
         .invalidProxyURL("https://[::1]", .bracketNotFollowedByPortOrPath(""))),
    ]

    @Test(arguments: rejected)
    func rejects(_ text: String, _ line: Int, _ key: String, _ reason: Reason) {
        #expect(throws: Conf.ParseError(line: line, key: key, reason: reason)) { try Conf.parse(text) }
    }

    @Test func errorMessageNamesFileLineAndKey() {
        let text = String(repeating: "# comment\n", count: 11) + "timeout: abc\n"
        do {
            _ = try Conf.parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "armsd.conf:12: timeout: not an integer: \"abc\"")
        }
        do {
            _ = try Conf.parse("ls-sa-key: x\ntimeout: -1\n", fileName: "/etc/armsd/armsd.conf")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/etc/armsd/armsd.conf:2: timeout: must not be negative: \"-1\"")
        }
        do {
            _ = try Conf.parse("https-proxy-url: http://proxy.example:8080/")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "armsd.conf:1: https-proxy-url: \"http://proxy.example:8080/\": "
                    + "URL host \"proxy.example\" is not a numeric IPv4 address (names are not resolved)")
        }
    }

    @Test func lineAndFileLimits() throws {
        let longest = "path-pid: /" + String(repeating: "p", count: 999 - 11)
        #expect(try Conf.parse(longest).configuration.pathPID.utf8.count == 989)
        #expect(throws: Conf.ParseError(line: 2, key: nil, reason: .lineTooLong(length: 1000))) {
            try Conf.parse("timeout: 1\n" + longest + "p\n")
        }
        #expect(throws: Conf.ParseError(line: nil, key: nil, reason: .tooLarge(bytes: 65537))) {
            try Conf.parse(String(repeating: "\n", count: 65537))
        }
    }

    // MARK: Encoder

    @Test func encodesDefaultsMinimally() throws {
        #expect(try Conf().encoded() == "ls-sa-key:\n")
        var conf = Conf()
        conf.distributionID = try DistributionID(parsing: "0001-0000-0000-0000-0000-0000-0000-0001")
        conf.lsSAKey = "testkey123"
        conf.pathIConfig = "/etc/armsd/initial-config"
        conf.httpsProxyURLRS = .noProxy
        conf.scripts[.lineCtrl] = "/etc/armsd/scripts/line"
        let text = try conf.encoded()
        #expect(text == """
            distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001
            ls-sa-key: testkey123
            path-iconfig: /etc/armsd/initial-config
            https-proxy-url-rs:
            script-line-ctrl: /etc/armsd/scripts/line

            """)
        #expect(try Conf.parse(text) == (conf, []))
    }

    @Test func sampleRoundTrips() throws {
        let conf = try Conf.parse(Self.sample).configuration
        let text = try conf.encoded()
        #expect(!text.contains("hb-disk-usage0"))  // equal to its default
        #expect(try Conf.parse(text).configuration == conf)
    }

    @Test func encoderErrors() {
        var conf = Conf()
        conf.scripts[.stop] = " /leading/space"
        #expect(throws: Conf.EncodeError.unrepresentable(key: "script-stop", value: " /leading/space")) { try conf.encoded() }
        conf = Conf()
        conf.pathRootCA = "/a\nb"
        #expect(throws: Conf.EncodeError.unrepresentable(key: "path-root-ca", value: "/a\nb")) { try conf.encoded() }
        conf = Conf()
        conf.lsSAKey = String(repeating: "k", count: 65)
        #expect(throws: Conf.EncodeError.invalid(Conf.ParseError(line: 1, key: "ls-sa-key",
                                                                 reason: .tooLong(String(repeating: "k", count: 65), max: 64)))) {
            try conf.encoded()
        }
        conf = Conf()
        conf.timeout = -3
        #expect(throws: Conf.EncodeError.invalid(Conf.ParseError(line: 2, key: "timeout", reason: .negative("-3")))) {
            try conf.encoded()
        }
    }
}
