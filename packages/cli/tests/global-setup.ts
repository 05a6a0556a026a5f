import { controlPlaneGlobalSetup } from "@ondemand-eks/testenv";

export default controlPlaneGlobalSetup("cli");
