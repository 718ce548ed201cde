/**
 * The files and symbols that server reflection answers about: the proto files of the
 * registered services and everything they import, indexed by file name, by fully-qualified
 * symbol and by extension.
 */
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";

export interface DescriptorIndexOptions {
  /** The services to describe; their files and the files those import are served. */
  services: readonly DescService[];
  /**
   * A `buf build` image of the same protos. Its files carry comments (source info) and
   * json_name, which the descriptors embedded in gen/ drop. Ignored when it no longer matches
   * the embedded descriptors (a stale image), so clients never see a wrong shape.
   */
  descriptorSet?: FileDescriptorSet;
}

export interface DescriptorIndex {
  /** Fully-qualified names of the described services, in registration order. */
  readonly serviceNames: readonly string[];
  /** Where the files come from: the image (with comments) or the embedded descriptors. */
  readonly source: "image" | "embedded";
  /** Why the image was not used, when one was given. */
  readonly imageRejectedReason?: string;
  /** A file and its transitive imports, file first; undefined when unknown. */
  fileWithImports(fileName: string): IndexedFile[] | undefined;
  /** The file that defines a symbol (package, message, field, enum, value, service, method, extension). */
  fileOfSymbol(symbol: string): string | undefined;
  /** The file that defines extension `number` of `messageName`. */
  fileOfExtension(messageName: string, number: number): string | undefined;
  /** Extension numbers known for a message; undefined when the message is unknown. */
  extensionNumbersOf(messageName: string): number[] | undefined;
}

export interface IndexedFile {
  name: string;
  /** A serialized google.protobuf.FileDescriptorProto. */
  bytes: Uint8Array;
}

export function createDescriptorIndex(options: DescriptorIndexOptions): DescriptorIndex {
  const embedded = new Map<string, FileDescriptorProto>();
  const addEmbedded = (file: DescFile) => {
    if (embedded.has(file.proto.name)) return;
    embedded.set(file.proto.name, file.proto);
    file.dependencies.forEach(addEmbedded);
  };
  for (const service of options.services) addEmbedded(service.file);

  const image = new Map((options.descriptorSet?.file ?? []).map((f) => [f.name, f]));
  const imageRejectedReason = options.descriptorSet ? staleImageReason(embedded, image) : undefined;
  const useImage = options.descriptorSet !== undefined && imageRejectedReason === undefined;
  const chosen = (name: string) => (useImage ? image.get(name) : undefined) ?? embedded.get(name);

  const files = new Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>();
  const symbols = new Map<string, string>();
  const extensions = new Map<string, Map<number, string>>();
  const messages = new Set<string>();
  const addFile = (name: string) => {
    const proto = chosen(name);
    if (proto === undefined || files.has(name)) return;
    files.set(name, { proto, bytes: toBinary(FileDescriptorProtoSchema, proto) });
    indexFile(proto, {
      symbol: (symbol) => symbols.set(symbol, name),
      message: (message) => messages.add(message),
      extension: (extendee, number) => {
        const numbers = extensions.get(extendee) ?? new Map<number, string>();
        numbers.set(number, name);
        extensions.set(extendee, numbers);
      },
    });
    proto.dependency.forEach(addFile);
  };
  for (const service of options.services) addFile(service.file.proto.name);

  const serviceNames = [...new Set(options.services.map((s) => s.typeName))];
  return {
    serviceNames,
    source: useImage ? "image" : "embedded",
    imageRejectedReason,
    fileWithImports(fileName) {
      if (!files.has(fileName)) return undefined;
      const out: IndexedFile[] = [];
      const seen = new Set<string>();
      const visit = (name: string) => {
        const file = files.get(name);
        if (file === undefined || seen.has(name)) return;
        seen.add(name);
        out.push({ name, bytes: file.bytes });
        file.proto.dependency.forEach(visit);
      };
      visit(fileName);
      return out;
    },
    fileOfSymbol(symbol) {
      return symbols.get(symbol.replace(/^\./, ""));
    },
    fileOfExtension(messageName, number) {
      return extensions.get(messageName.replace(/^\./, ""))?.get(number);
    },
    extensionNumbersOf(messageName) {
      const name = messageName.replace(/^\./, "");
      if (!messages.has(name)) return undefined;
      return [...(extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
    },
  };
}

interface IndexSink {
  symbol(fullName: string): void;
  message(fullName: string): void;
  extension(extendee: string, number: number): void;
}

function indexFile(file: FileDescriptorProto, sink: IndexSink): void {
  const scope = file.package;
  if (scope !== "") {
    // Every enclosing package is a symbol too ("flux", "flux.restful", ...), as in protoc's pool.
    const parts = scope.split(".");
    for (let i = 1; i <= parts.length; i++) sink.symbol(parts.slice(0, i).join("."));
  }
  const join = (prefix: string, name: string) => (prefix === "" ? name : `${prefix}.${name}`);
  const indexEnum = (prefix: string, e: EnumDescriptorProto) => {
    sink.symbol(join(prefix, e.name));
    // Enum values live in the enum's enclosing scope, not inside the enum (C++ scoping rules).
    for (const value of e.value) sink.symbol(join(prefix, value.name));
  };
  const indexExtension = (prefix: string, field: FieldDescriptorProto) => {
    sink.symbol(join(prefix, field.name));
    sink.extension(field.extendee.replace(/^\./, ""), field.number);
  };
  const indexMessage = (prefix: string, message: DescriptorProto) => {
    const name = join(prefix, message.name);
    sink.symbol(name);
    sink.message(name);
    for (const field of message.field) sink.symbol(join(name, field.name));
    for (const oneof of message.oneofDecl) sink.symbol(join(name, oneof.name));
    for (const nested of message.nestedType) indexMessage(name, nested);
    for (const e of message.enumType) indexEnum(name, e);
    for (const ext of message.extension) indexExtension(name, ext);
  };
  for (const message of file.messageType) indexMessage(scope, message);
  for (const e of file.enumType) indexEnum(scope, e);
  for (const ext of file.extension) indexExtension(scope, ext);
  for (const service of file.service) {
    const name = join(scope, service.name);
    sink.symbol(name);
    for (const method of service.method) sink.symbol(join(name, method.name));
  }
}

/**
 * Why the image cannot stand in for the embedded descriptors, or undefined when it can: every
 * embedded file must be in the image with the same messages, fields, enums and methods.
 */
function staleImageReason(
  embedded: Map<string, FileDescriptorProto>,
  image: Map<string, FileDescriptorProto>,
): string | undefined {
  for (const [name, proto] of embedded) {
    const fromImage = image.get(name);
    if (fromImage === undefined) return `file "${name}" is missing from the descriptor set`;
    if (shapeOf(fromImage) !== shapeOf(proto)) return `file "${name}" differs from the generated code`;
  }
  return undefined;
}

/** The wire-relevant shape of a file, leaving out comments, options and json names. */
function shapeOf(file: FileDescriptorProto): string {
  const out: string[] = [file.package, ...file.dependency];
  const field = (f: FieldDescriptorProto) =>
    `${f.name}=${f.number}:${f.label}:${f.type}:${f.typeName}:${f.extendee}:${f.oneofIndex ?? ""}`;
  const enumShape = (e: EnumDescriptorProto) => `enum ${e.name}{${e.value.map((v) => `${v.name}=${v.number}`)}}`;
  const message = (m: DescriptorProto): string =>
    `message ${m.name}{${[
      ...m.field.map(field),
      ...m.oneofDecl.map((o) => `oneof ${o.name}`),
      ...m.nestedType.map(message),
      ...m.enumType.map(enumShape),
      ...m.extension.map(field),
    ].join(";")}}`;
  out.push(...file.messageType.map(message), ...file.enumType.map(enumShape), ...file.extension.map(field));
  for (const service of file.service) {
    out.push(
      `service ${service.name}{${service.method.map(
        (m) => `${m.name}(${m.clientStreaming ? "stream " : ""}${m.inputType})` +
          `(${m.serverStreaming ? "stream " : ""}${m.outputType})`,
      )}}`,
    );
  }
  return out.join("\n");
}
