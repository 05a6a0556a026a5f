import { loadPodLibrary, type PodLibrary } from "@ondemand-eks/pod-library";

/** Gives the pod library to use for the next event. */
export interface PodLibrarySource {
  get(): Promise<PodLibrary>;
}

/** A library directory bundled with the function: read once, at init. */
export async function directoryLibrary(path: string): Promise<PodLibrarySource> {
  const library = await loadPodLibrary(path);
  return { get: async () => library };
}
