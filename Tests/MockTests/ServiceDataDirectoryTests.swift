import ARMSProtocol
import Foundation
import MockCore
import MockService
import Testing

private let fakeCA = """
    -----BEGIN CERTIFICATE-----
    MIIBszCCAVmgAwIBAgIUZmFrZQ==
    -----END CERTIFICATE-----
    """

@Suite struct ServiceDataDirectoryTests {
    @Test func writesFilesThatParseBack() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let dir = DataDirectory(path: base + "/./data/../data")
        #expect(dir.path == base + "/data")
        let ls = [try ARMSURL(parsing: "https://127.0.0.1:48443/arms.cgi"), try ARMSURL(parsing: "https://[::1]:48443/arms.cgi")]
        try dir.prepare(endpoints: .init(lsURLs: ls, control: "http://127.0.0.1:48080"), rootCAPEM: fakeCA, sa: .demo)

        let fm = FileManager.default
        #expect(try String(contentsOfFile: dir.rootCAPath, encoding: .utf8) == fakeCA + "\n")

        let iconfig = try InitialConfig(parsing: try String(contentsOfFile: dir.initialConfigPath, encoding: .utf8))
        #expect(iconfig.lsURLs == ["https://127.0.0.1:48443/arms.cgi", "https://[::1]:48443/arms.cgi"])
        #expect(iconfig.retryInterval == DataDirectory.defaultRetryInterval)
        #expect(iconfig.retryMax == DataDirectory.defaultRetryMax)
        #expect(iconfig.lsRetryPolicy == LSRetryPolicy(rounds: 501, intervalSeconds: 20))

        let (conf, warnings) = try ArmsdConfiguration.parse(try String(contentsOfFile: dir.armsdConfPath, encoding: .utf8))
        #expect(warnings.isEmpty)
        #expect(conf.distributionID == SAProfile.demo.distributionID)
        #expect(conf.lsSAKey == SAProfile.demo.lsKey)
        #expect(conf.pathIConfig == dir.initialConfigPath)
        #expect(conf.pathRootCA == dir.rootCAPath)
        #expect(conf.pathStateCache == base + "/data/state/0001-0000-0000-0000-0000-0000-0000-0001")
        #expect(conf.pathPID == base + "/data/armsd.pid")
        #expect(fm.fileExists(atPath: dir.stateDirectoryPath))

        let control = try #require(try dir.readControlFile())
        #expect(control == DataDirectory.ControlFile(control: "http://127.0.0.1:48080", pid: getpid()))
        let raw = try String(contentsOfFile: dir.controlFilePath, encoding: .utf8)
        #expect(raw == "{\"control\":\"http://127.0.0.1:48080\",\"pid\":\(getpid())}\n")

        // Key-holding files are private; no temporary files are left behind.
        let mode = { (p: String) in ((try? fm.attributesOfItem(atPath: p)[.posixPermissions]) as? NSNumber)?.intValue }
        #expect(mode(dir.armsdConfPath) == 0o600)
        #expect(mode(dir.controlFilePath) == 0o600)
        #expect(mode(dir.rootCAPath) == 0o644)
        let names = try fm.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["armsd.conf", "ca.pem", "control.json", "initial-config", "scripts", "state"])

        // The demo callback scripts are executable and armsd.conf names each of them.
        let scripts = try fm.contentsOfDirectory(atPath: dir.scriptsDirectoryPath).sorted()
        #expect(scripts == ["clear", "command", "reboot", "reconfig", "start", "state-changed", "status", "stop"])
        let written = try ArmsdConfiguration.parse(String(contentsOfFile: dir.armsdConfPath, encoding: .utf8)).configuration
        for name in scripts {
            let path = dir.scriptsDirectoryPath + "/" + name
            #expect(mode(path) == 0o755)
            #expect(written.scripts.values.contains(path), "\(name)")
        }

        // Rewriting replaces the file; removing the control file needs our pid in it.
        try dir.writeControlFile(.init(control: "http://127.0.0.1:1", pid: getpid() + 1))
        dir.removeControlFile()
        #expect(fm.fileExists(atPath: dir.controlFilePath))
        try dir.writeControlFile(.init(control: "http://127.0.0.1:1", pid: getpid()))
        dir.removeControlFile()
        #expect(!fm.fileExists(atPath: dir.controlFilePath))
        #expect(try dir.readControlFile() == nil)
    }

    @Test func refusesWhatCannotBeWritten() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let dir = DataDirectory(path: base)
        #expect(throws: DataDirectory.Failure.self) { try dir.writeRootCA(pem: "not a certificate") }
        #expect(throws: DataDirectory.Failure.self) { try dir.writeInitialConfig(lsURLs: []) }
        var sa = SAProfile.demo
        sa.lsKey = "line\nbreak"
        #expect(throws: DataDirectory.Failure.self) { try dir.writeArmsdConf(for: sa) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: base).isEmpty)
    }

    @Test func defaultPathIsRelativeToTheCurrentDirectory() {
        #expect(DataDirectory.defaultPath == "./warplink-data")
        #expect(DataDirectory().path == FileManager.default.currentDirectoryPath + "/warplink-data")
    }
}
