export { registerReflection, registeredServices } from "./reflection-service.js";
export type { ReflectionOptions } from "./reflection-service.js";
export { loadDescriptorSet, GENERATED_DESCRIPTOR_SET_PATH } from "./descriptor-set.js";
export { createDescriptorIndex } from "./descriptor-index.js";
export type { DescriptorIndex, DescriptorIndexOptions, IndexedFile } from "./descriptor-index.js";
