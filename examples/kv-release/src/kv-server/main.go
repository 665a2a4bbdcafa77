// kv-server: a small key-value store over HTTP, the example service of Bosun's quickstart.
//
//	GET    /kv/<key>   the value (404 when absent)
//	PUT    /kv/<key>   stores the request body
//	DELETE /kv/<key>   removes the key
//	GET    /health     "ok" (no password needed)
//
// Every /kv request needs HTTP basic auth with user "kv" and the password from the config file.
// Values live as files under the data directory (the persistent disk), written atomically.
package main

import (
	"crypto/subtle"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

type config struct {
	Port     int    `json:"port"`
	Password string `json:"password"`
	DataDir  string `json:"data_dir"`
}

func main() {
	configPath := flag.String("config", "/var/vcap/jobs/kv-server/config/config.json", "config file")
	flag.Parse()
	raw, err := os.ReadFile(*configPath)
	if err != nil {
		log.Fatalf("reading config: %v", err)
	}
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		log.Fatalf("parsing config: %v", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		log.Fatalf("creating %s: %v", cfg.DataDir, err)
	}
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	http.HandleFunc("/kv/", func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok || user != "kv" || subtle.ConstantTimeCompare([]byte(password), []byte(cfg.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="kv"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		key := strings.TrimPrefix(r.URL.Path, "/kv/")
		if key == "" || strings.Contains(key, "/") {
			http.Error(w, "bad key", http.StatusBadRequest)
			return
		}
		file := filepath.Join(cfg.DataDir, url.PathEscape(key))
		switch r.Method {
		case http.MethodGet:
			value, err := os.ReadFile(file)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Write(value)
		case http.MethodPut:
			value, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			temporary := file + ".tmp"
			if err := os.WriteFile(temporary, value, 0o640); err != nil || os.Rename(temporary, file) != nil {
				http.Error(w, "cannot store", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			os.Remove(file)
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
	log.Printf("kv-server listening on :%d, data in %s", cfg.Port, cfg.DataDir)
	log.Fatal(http.ListenAndServe(":"+itoa(cfg.Port), nil))
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
