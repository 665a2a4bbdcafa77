// yamlv2-roundtrip reads YAML documents and prints them back with gopkg.in/yaml.v2, the library
// and version the bosh CLI prints manifests with. Bosun's tests compare their own printer with it.
//
// Usage: yamlv2-roundtrip FILE...  (one document per file; output of each file is followed by a
// line holding only "\x1e" so many files can be checked in one process).
package main

import (
	"fmt"
	"io/ioutil"
	"os"

	"gopkg.in/yaml.v2"
)

func main() {
	for _, path := range os.Args[1:] {
		input, err := ioutil.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var doc interface{}
		if err := yaml.Unmarshal(input, &doc); err != nil {
			fmt.Printf("ERROR: %s\n\x1e\n", err)
			continue
		}
		output, err := yaml.Marshal(doc)
		if err != nil {
			fmt.Printf("ERROR: %s\n\x1e\n", err)
			continue
		}
		fmt.Printf("%s\x1e\n", output)
	}
}
