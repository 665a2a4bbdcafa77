import BosunCore
import Foundation
import Subprocess
import SystemPackage

/// One template of a job: its file under `templates/` (or `monit`), where it lands under
/// `/var/vcap/jobs/<job>/`, and its ERB text.
public struct TemplateSource: Sendable, Hashable, Codable {
    public var name: String
    public var destination: String
    public var erb: String

    public init(name: String, destination: String, erb: String) {
        self.name = name
        self.destination = destination
        self.erb = erb
    }
}

/// One job of one instance to render: which template set, with which template spec.
public struct TemplateRender: Sendable, Codable {
    public var id: String
    public var templateSet: String
    public var context: JSONValue

    public init(id: String, templateSet: String, context: JSONValue) {
        self.id = id
        self.templateSet = templateSet
        self.context = context
    }

    enum CodingKeys: String, CodingKey {
        case id, context
        case templateSet = "template_set"
    }
}

/// What one render produced: files by destination, or every error it hit.
public struct RenderedTemplates: Sendable, Codable, Equatable {
    public var id: String
    public var files: [String: String]
    public var errors: [String]
}

public struct TemplateRenderError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Renders ERB job templates with Ruby: one `ruby` process per call, however many instances and
/// templates the call holds (reference §7.4), so a 100-instance deploy costs one interpreter start.
public struct ERBRenderer: Sendable {
    public var ruby: String

    public init(ruby: String = ERBRenderer.defaultRuby) {
        self.ruby = ruby
    }

    /// `ruby` from the usual places, for directors started without a configured path.
    public static var defaultRuby: String {
        ["/usr/bin/ruby", "/usr/local/bin/ruby"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/ruby"
    }

    private struct Request: Encodable {
        var templateSets: [String: [TemplateSource]]
        var renders: [TemplateRender]
        var redact: [String]

        enum CodingKeys: String, CodingKey {
            case renders, redact
            case templateSets = "template_sets"
        }
    }

    private struct Response: Decodable {
        var renders: [RenderedTemplates]
    }

    /// Renders each of `renders` with its template set. Strings in `redact` (secret values) never
    /// appear in the returned errors.
    public func render(
        templateSets: [String: [TemplateSource]], renders: [TemplateRender], redact: [String] = []
    ) async throws(TemplateRenderError) -> [RenderedTemplates] {
        guard !renders.isEmpty else { return [] }
        guard FileManager.default.isExecutableFile(atPath: ruby) else {
            throw TemplateRenderError(description: "Rendering job templates needs Ruby, and '\(ruby)' is not an executable (install the 'ruby' package)")
        }
        let input: Data
        do {
            input = try JSONCoding.encoder.encode(Request(templateSets: templateSets, renders: renders, redact: redact))
        } catch {
            throw TemplateRenderError(description: "Encoding the templates to render: \(error)")
        }
        let result: (terminationStatus: TerminationStatus, standardOutput: Data, standardError: String?)
        do {
            let finished = try await Subprocess.run(
                .path(FilePath(ruby)), arguments: ["-e", ERBRendererScript.source],
                environment: .custom(["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]),
                input: .data(input), output: .data(limit: 1 << 30), error: .string(limit: 1 << 20))
            result = (finished.terminationStatus, finished.standardOutput, finished.standardError)
        } catch {
            throw TemplateRenderError(description: "Running Ruby to render templates: \(error)")
        }
        guard result.terminationStatus.isSuccess else {
            let stderr = Self.redacting(redact, in: result.standardError ?? "")
            throw TemplateRenderError(description: "The template renderer failed (\(result.terminationStatus)): \(stderr.suffix(2000))")
        }
        do {
            return try JSONCoding.decoder.decode(Response.self, from: result.standardOutput).renders
        } catch {
            throw TemplateRenderError(description: "The template renderer's output was unreadable: \(error)")
        }
    }

    static func redacting(_ secrets: [String], in text: String) -> String {
        secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }.reduce(text) {
            $0.replacingOccurrences(of: $1, with: "<redacted>")
        }
    }
}
