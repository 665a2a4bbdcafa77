/// The Ruby program that renders every job template of a deploy in one process (reference §7.4).
///
/// Input on stdin, one JSON document:
/// `{"template_sets": {KEY: [{"name", "destination", "erb"}]}, "renders": [{"id", "template_set",
/// "context"}], "redact": [STRING]}`. Each template is compiled once and rendered for every
/// instance that uses its set, each time with a fresh evaluation context built from `context`
/// (the instance's template spec: `properties`, `links`, `index`, `name`, `id`, `az`, …).
///
/// Output on stdout: `{"renders": [{"id", "files": {DESTINATION: TEXT}, "errors": [STRING]}]}`,
/// with every error of a render (not just the first) and every string in `redact` replaced by
/// `<redacted>` in error text — Ruby's messages can quote the object they failed on, and that can
/// hold a password.
enum ERBRendererScript {
    static let source = #"""
    require 'json'
    require 'erb'
    require 'ostruct'

    module Bosun
      class UnknownProperty < StandardError
        def initialize(names)
          super("Can't find property '#{names.join("', or '")}'")
        end
      end

      class UnknownLink < StandardError
        def initialize(name)
          super("Can't find link '#{name}'")
        end
      end

      def self.lookup(collection, name)
        name.to_s.split('.').each do |key|
          return nil unless collection.is_a?(Hash)
          collection = collection[key]
          return nil if collection.nil?
        end
        collection
      end

      def self.openstruct(object)
        case object
        when Hash then OpenStruct.new(object.each_with_object({}) { |(k, v), h| h[k] = openstruct(v) })
        when Array then object.map { |item| openstruct(item) }
        else object
        end
      end

      # What `if_p`/`if_link` return when they did not yield: `.else` runs its block.
      class ActiveElseBlock
        def initialize(context)
          @context = context
        end

        def else
          yield
        end

        def else_if_p(*names, &block)
          @context.if_p(*names, &block)
        end

        def else_if_link(name, &block)
          @context.if_link(name, &block)
        end
      end

      # What `if_p`/`if_link` return when they yielded: nothing else runs.
      class InactiveElseBlock
        def else; end

        def else_if_p(*_names)
          self
        end

        def else_if_link(_name)
          self
        end
      end

      # Property lookups shared by a template's context and by a link.
      module PropertyLookup
        def p(*args)
          names = Array(args[0])
          names.each do |name|
            value = Bosun.lookup(lookup_root, name)
            return value unless value.nil?
          end
          return args[1] if args.length == 2
          raise UnknownProperty.new(names)
        end

        def if_p(*names)
          values = names.map do |name|
            value = Bosun.lookup(lookup_root, name)
            return ActiveElseBlock.new(self) if value.nil?
            value
          end
          yield(*values)
          InactiveElseBlock.new
        end
      end

      LinkInstance = Struct.new(:name, :index, :id, :az, :address, :bootstrap, keyword_init: true)

      class Link
        include PropertyLookup
        attr_reader :name, :instances, :properties

        def initialize(name, spec)
          @name = name
          @properties = spec['properties'] || {}
          @instances = (spec['instances'] || []).map do |i|
            LinkInstance.new(name: i['name'], index: i['index'], id: i['id'], az: i['az'],
                             address: i['address'], bootstrap: i['bootstrap'])
          end
          @address = spec['address']
        end

        # BOSH answers with a DNS query; without DNS the provider's first address stands in.
        def address(_criteria = {})
          @address || @instances.first&.address
        end

        def inspect
          "#<link #{@name}>"
        end

        private

        def lookup_root
          @properties
        end
      end

      class Context
        include PropertyLookup
        attr_reader :name, :index, :properties, :raw_properties, :spec

        def initialize(spec)
          @raw_properties = spec['properties'] || {}
          @properties = Bosun.openstruct(@raw_properties)
          @links = spec['links'] || {}
          @spec = Bosun.openstruct(spec.reject { |k, _| k == 'links' })
          @name = spec['name']
          @index = spec['index']
        end

        def link(name)
          found = @links[name]
          raise UnknownLink.new(name) if found.nil?
          Link.new(name, found)
        end

        def if_link(name)
          found = @links[name]
          return ActiveElseBlock.new(self) if found.nil?
          yield Link.new(name, found)
          InactiveElseBlock.new
        end

        def inspect
          '#<template context>'
        end
        alias to_s inspect

        def evaluate(erb)
          erb.result(binding)
        end

        private

        def lookup_root
          @raw_properties
        end
      end

      def self.redact(text, secrets)
        secrets.reduce(text) { |t, s| t.gsub(s, '<redacted>') }
      end

      def self.failure(template, error, secrets)
        frame = (error.backtrace || []).find { |line| line.start_with?("#{template}:") }
        line = frame ? frame.split(':')[1] : 'unknown'
        redact("Error filling in template '#{template}' (line #{line}: #{error.message})", secrets)
      end

      def self.main
        input = JSON.parse($stdin.read)
        secrets = (input['redact'] || []).select { |s| s.is_a?(String) && !s.empty? }.sort_by { |s| -s.length }
        compiled = {}
        (input['template_sets'] || {}).each do |key, templates|
          compiled[key] = templates.map do |t|
            erb = ERB.new(t['erb'], trim_mode: '-')
            erb.filename = t['name']
            [t, erb]
          rescue SyntaxError, StandardError => e
            [t, e]
          end
        end
        output = (input['renders'] || []).map do |render|
          files = {}
          errors = []
          (compiled[render['template_set']] || []).each do |template, erb|
            if erb.is_a?(Exception)
              errors << redact("Error compiling template '#{template['name']}': #{erb.message}", secrets)
              next
            end
            begin
              files[template['destination']] = Context.new(render['context']).evaluate(erb)
            rescue Exception => e
              errors << failure(template['name'], e, secrets)
            end
          end
          { 'id' => render['id'], 'files' => files, 'errors' => errors }
        end
        $stdout.write(JSON.generate({ 'renders' => output }))
      end
    end

    Bosun.main
    """#
}
