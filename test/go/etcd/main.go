// A three-line etcd: Debian's etcd 3.4 is older than Kubernetes 1.34 supports.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
