import ARMSProtocol
import Foundation
import MockCore

/// Reads and writes an SA profile as the control API's JSON (camelCase field names):
///
/// ```json
/// {"distributionID": "0001-0000-0000-0000-0000-0000-0000-0001", "lsKey": "k1", "rsKey": "k2",
///  "label": "lab router", "modules": [{"id": 1, "version": "1.0", "info": "router-main",
///  "config": "hostname r1\n", "base64": false}]}
/// ```
///
/// `label`, `modules` and, in a module, `version`, `info`, `config` and `base64` may be left
/// out. Unknown fields are refused (a misspelt one would otherwise vanish silently), and the
/// result is checked with `SAProfile.validate()`.
public enum SAProfileJSON {
    static let saFields: Set<String> = ["distributionID", "lsKey", "rsKey", "label", "modules", "heartbeat"]
    static let heartbeatFields: Set<String> = ["passphrase", "interval", "servers"]
    static let heartbeatServerFields: Set<String> = ["host", "port"]
    static let moduleFields: Set<String> = ["id", "version", "info", "config", "base64"]

    /// Decodes and validates one profile; the issue names the offending field.
    public static func decode(_ bytes: [UInt8]) throws(ProfileIssue) -> SAProfile {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes), options: []) } catch {
            throw ProfileIssue(path: "", message: "body is not JSON: \(jsonReason(error))")
        }
        guard var sa = object as? [String: Any] else { throw ProfileIssue(path: "", message: "body must be a JSON object (an SA profile)") }
        if let unknown = sa.keys.sorted().first(where: { !saFields.contains($0) }) {
            throw ProfileIssue(path: unknown, message: "unknown field (expected: \(saFields.sorted().joined(separator: ", ")))")
        }
        if sa["modules"] == nil || sa["modules"] is NSNull { sa["modules"] = [Any]() }
        if sa["heartbeat"] is NSNull { sa["heartbeat"] = nil }
        if let heartbeat = sa["heartbeat"] as? [String: Any] {
            if let unknown = heartbeat.keys.sorted().first(where: { !heartbeatFields.contains($0) }) {
                throw ProfileIssue(path: "heartbeat.\(unknown)",
                                   message: "unknown field (expected: \(heartbeatFields.sorted().joined(separator: ", ")))")
            }
            for (k, item) in ((heartbeat["servers"] as? [Any]) ?? []).enumerated() {
                if let server = item as? [String: Any],
                   let unknown = server.keys.sorted().first(where: { !heartbeatServerFields.contains($0) }) {
                    throw ProfileIssue(path: "heartbeat.servers[\(k)].\(unknown)",
                                       message: "unknown field (expected: \(heartbeatServerFields.sorted().joined(separator: ", ")))")
                }
            }
        }
        if let modules = sa["modules"] as? [Any] {
            var filled: [Any] = []
            for (k, item) in modules.enumerated() {
                guard var m = item as? [String: Any] else { filled.append(item); continue }
                if let unknown = m.keys.sorted().first(where: { !moduleFields.contains($0) }) {
                    throw ProfileIssue(path: "modules[\(k)].\(unknown)",
                                       message: "unknown field (expected: \(moduleFields.sorted().joined(separator: ", ")))")
                }
                if let id = m["id"], !isModuleID(id) {
                    throw ProfileIssue(path: "modules[\(k)].id", message: "expected a number from 0 to 4294967295")
                }
                for (key, value) in [("info", "" as Any), ("config", "" as Any), ("base64", false as Any)]
                where m[key] == nil || m[key] is NSNull {
                    m[key] = value
                }
                filled.append(m)
            }
            sa["modules"] = filled
        }
        let profile: SAProfile
        do {
            let data = try JSONSerialization.data(withJSONObject: sa, options: [])
            profile = try JSONDecoder().decode(SAProfile.self, from: data)
        } catch let error as DecodingError {
            throw issue(error)
        } catch {
            throw ProfileIssue(path: "", message: "\(error)")
        }
        try profile.validate()
        return profile
    }

    /// A JSON number that is a whole number from 0 to 2³²−1 (JSONDecoder's own message for
    /// anything else does not name the field).
    static func isModuleID(_ value: Any) -> Bool {
        // JSON booleans come back as NSNumber too, with the C type "c".
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { return false }
        let d = n.doubleValue
        return d >= 0 && d <= Double(UInt32.max) && d.rounded() == d
    }

    /// The profile as JSON (sorted keys).
    public static func encode(_ profile: SAProfile, pretty: Bool = false) -> [UInt8] {
        ControlJSON.encode(profile, pretty: pretty)
    }

    static func issue(_ error: DecodingError) -> ProfileIssue {
        switch error {
        case .keyNotFound(let key, let c):
            return ProfileIssue(path: path(c.codingPath + [key]), message: "missing (required)")
        case .typeMismatch(let type, let c):
            return ProfileIssue(path: path(c.codingPath), message: "expected \(typeName(type))")
        case .valueNotFound(let type, let c):
            return ProfileIssue(path: path(c.codingPath), message: "must not be null (expected \(typeName(type)))")
        case .dataCorrupted(let c):
            return ProfileIssue(path: path(c.codingPath), message: c.debugDescription)
        @unknown default:
            return ProfileIssue(path: "", message: "\(error)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var s = ""
        for k in keys {
            if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
        }
        return s
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is UInt32.Type: return "a number from 0 to 4294967295"
        case is Int.Type, is Double.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") || name.hasSuffix("Profile") { return "an object" }
            return name
        }
    }

    static func jsonReason(_ error: any Error) -> String {
        let ns = error as NSError
        if let d = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return d }
        return ns.localizedDescription
    }
}
