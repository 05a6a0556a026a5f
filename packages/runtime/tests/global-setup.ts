import { controlPlaneGlobalSetup } from "@ondemand-eks/testenv";

export default controlPlaneGlobalSetup("runtime");
