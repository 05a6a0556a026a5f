// etcd for the test control plane. etcd's own main module replaces its
// sub-modules with local directories, so we build the same entry point here,
// against the etcd server that k8s.io/kubernetes already requires.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
