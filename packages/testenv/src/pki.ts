import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Certificates and keys of one control plane, all under its own directory. */
export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args, { cwd, timeout: 30_000 });
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === "ENOENT") {
      throw new Error(
        "openssl is needed to make the control plane's certificates (Debian: openssl)",
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${stderr ?? String(error)}`);
  }
}

const newKey = (file: string) => [
  "genpkey",
  "-algorithm",
  "EC",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-out",
  file,
];

/**
 * Makes a throwaway CA, the API server's serving certificate (for 127.0.0.1), an admin
 * client certificate in group system:masters, and the service-account signing key pair.
 * Everything is ECDSA P-256 and lives only as long as the control plane's directory.
 */
export async function createPki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const pki: Pki = {
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    servingCert: join(dir, "apiserver.crt"),
    servingKey: join(dir, "apiserver.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    serviceAccountKey: join(dir, "service-account.key"),
    serviceAccountPublicKey: join(dir, "service-account.pub"),
  };
  await openssl(dir, newKey(pki.caKey));
  await openssl(dir, [
    ...["req", "-x509", "-new", "-key", pki.caKey, "-days", "3650"],
    ...["-subj", "/CN=ondemand-eks-testenv-ca"],
    ...["-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ...["-out", pki.caCert],
  ]);
  const leaf = async (key: string, cert: string, subject: string, extensions: string[]) => {
    await openssl(dir, newKey(key));
    await openssl(dir, [
      ...["req", "-x509", "-new", "-key", key, "-days", "365"],
      ...["-CA", pki.caCert, "-CAkey", pki.caKey, "-subj", subject],
      ...["-addext", "basicConstraints=critical,CA:FALSE"],
      ...extensions.flatMap((extension) => ["-addext", extension]),
      ...["-out", cert],
    ]);
  };
  await leaf(pki.servingKey, pki.servingCert, "/CN=kube-apiserver", [
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "extendedKeyUsage=serverAuth",
  ]);
  await leaf(pki.adminKey, pki.adminCert, "/O=system:masters/CN=ondemand-eks-admin", [
    "extendedKeyUsage=clientAuth",
  ]);
  await openssl(dir, newKey(pki.serviceAccountKey));
  await openssl(dir, [
    "pkey",
    "-in",
    pki.serviceAccountKey,
    "-pubout",
    "-out",
    pki.serviceAccountPublicKey,
  ]);
  return pki;
}
