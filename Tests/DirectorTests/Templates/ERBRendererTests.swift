import BosunCore
import Foundation
import Testing

@testable import Director

/// The renderer with the real Ruby interpreter: BOSH's template helpers, and errors that name the
/// template and line but never a secret.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: ERBRenderer.defaultRuby), "needs ruby"))
struct ERBRendererTests {
    let renderer = ERBRenderer()

    static let context: JSONValue = [
        "name": "web", "index": 1, "id": "5c2f", "az": "z1", "bootstrap": false,
        "networks": ["default": ["ip": "10.244.0.7"]],
        "properties": ["port": 8080, "admin": ["password": "s3cr3t-pass"], "tls": ["enabled": false]],
        "links": ["db": ["properties": ["port": 5432], "instances": [["address": "10.244.0.9", "index": 0], ["address": "10.244.0.10", "index": 1]]]],
    ]

    @Test func helpersBehaveAsInBOSH() async throws {
        let templates = [
            TemplateSource(name: "monit", destination: "monit", erb: "check process <%= name %>-<%= index %> <%= spec.id %> <%= spec.az %>\n"),
            TemplateSource(name: "app.conf.erb", destination: "config/app.conf", erb: """
                port=<%= p('port') %>
                fallback=<%= p(['missing', 'port']) %> default=<%= p('nope', 'dflt') %> false=<%= p('tls.enabled') %>
                <% if_p('tls.cert') do |cert| -%>
                cert=<%= cert %>
                <% end.else do -%>
                plain
                <% end -%>
                <% if_p('port', 'admin.password') do |port, pw| -%>
                both=<%= port %>
                <% end -%>
                ip=<%= spec.networks.default.ip %> props=<%= properties.admin.password.size %>
                <% link('db').instances.each do |i| -%>
                db=<%= i.address %>:<%= link('db').p('port') %>
                <% end -%>
                <% if_link('cache') do |c| %>cache<% end.else_if_link('db') do |d| -%>
                first-db=<%= d.address %>
                <% end -%>

                """),
        ]
        let rendered = try await renderer.render(
            templateSets: ["web": templates], renders: [TemplateRender(id: "web/0", templateSet: "web", context: Self.context)])
        #expect(rendered.count == 1)
        #expect(rendered[0].errors == [])
        #expect(rendered[0].files["monit"] == "check process web-1 5c2f z1\n")
        #expect(rendered[0].files["config/app.conf"] == """
            port=8080
            fallback=8080 default=dflt false=false
            plain
            both=8080
            ip=10.244.0.7 props=11
            db=10.244.0.9:5432
            db=10.244.0.10:5432
            first-db=10.244.0.9

            """)
    }

    @Test func everyErrorOfAJobIsReportedAndSecretsAreRedacted() async throws {
        let templates = [
            TemplateSource(name: "ok.erb", destination: "ok", erb: "fine"),
            TemplateSource(name: "missing.erb", destination: "a", erb: "line 1\n<%= p('not.there') %>\n"),
            TemplateSource(name: "leaky.erb", destination: "b", erb: "<%= p('admin').frobnicate %>"),
            TemplateSource(name: "nolink.erb", destination: "c", erb: "<%= link('cache').address %>"),
            TemplateSource(name: "syntax.erb", destination: "d", erb: "<% if %>"),
        ]
        let rendered = try await renderer.render(
            templateSets: ["web": templates], renders: [TemplateRender(id: "web/0", templateSet: "web", context: Self.context)],
            redact: ["s3cr3t-pass"])
        let errors = rendered[0].errors
        #expect(errors.count == 4, "\(errors)")
        #expect(errors.contains("Error filling in template 'missing.erb' (line 2: Can't find property 'not.there')"))
        #expect(errors.contains("Error filling in template 'nolink.erb' (line 1: Can't find link 'cache')"))
        #expect(errors.contains { $0.hasPrefix("Error filling in template 'leaky.erb' (line 1: undefined method `frobnicate'") })
        #expect(errors.contains { $0.hasPrefix("Error filling in template 'syntax.erb'") })
        #expect(!errors.joined().contains("s3cr3t-pass"), "\(errors)")
        #expect(rendered[0].files == ["ok": "fine"])
    }

    /// Many instances of one template set in one call: each gets its own context.
    @Test func oneProcessRendersManyInstances() async throws {
        let templates = [TemplateSource(name: "id.erb", destination: "id", erb: "<%= spec.index %>/<%= p('port') %>")]
        let renders = (0..<50).map { index in
            var context = Self.context
            if case .object(var object) = context {
                object["index"] = .int(index)
                object["properties"] = ["port": .int(9000 + index)]
                context = .object(object)
            }
            return TemplateRender(id: "web/\(index)", templateSet: "web", context: context)
        }
        let rendered = try await renderer.render(templateSets: ["web": templates], renders: renders)
        #expect(rendered.map(\.id) == renders.map(\.id))
        #expect(rendered.map { $0.files["id"] ?? "" } == (0..<50).map { "\($0)/\(9000 + $0)" })
    }

    @Test func aMissingRubyIsNamed() async {
        let missing = ERBRenderer(ruby: "/nonexistent/ruby")
        await #expect(throws: TemplateRenderError.self) {
            try await missing.render(templateSets: [:], renders: [TemplateRender(id: "x", templateSet: "x", context: [:])])
        }
    }
}
