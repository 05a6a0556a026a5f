import { controlPlaneGlobalSetup } from "@ondemand-eks/testenv";

// One control plane for the run: the pools' Deployments are applied, scaled and deleted
// on a real API server (pools-*.test.ts); the other files do not use it.
export default controlPlaneGlobalSetup("controller");
