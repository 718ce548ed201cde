/**
 * Loads the `buf build` image that `npm run generate` writes to gen/descriptors.binpb. It is
 * what lets reflection clients (grpcurl describe) show the proto comments.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";

/** gen/descriptors.binpb in this checkout. */
export const GENERATED_DESCRIPTOR_SET_PATH = fileURLToPath(new URL("../../../gen/descriptors.binpb", import.meta.url));

/** Reads a FileDescriptorSet; undefined when the file does not exist. Defaults to the generated one. */
export async function loadDescriptorSet(path = GENERATED_DESCRIPTOR_SET_PATH): Promise<FileDescriptorSet | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return fromBinary(FileDescriptorSetSchema, bytes);
}
