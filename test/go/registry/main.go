// An OCI registry for the sandbox: go-containerregistry's pkg/registry (the library behind its
// cmd/registry), listening on 127.0.0.1 only, with everything on disk under -dir. cmd/registry itself keeps
// blobs and manifests in memory, listens on "localhost" and answers 1% of requests with a joke Warning
// header. pkg/registry stores blobs on disk (NewDiskBlobHandler) but manifests only in memory, so this
// wrapper also writes every manifest a client PUT successfully to disk and replays them at start: what
// `sandbox up` pushed once survives a restart. And it makes the Location of upload answers absolute:
// pkg/registry sends a path, which Ollama's push takes for a whole URL ("http:///v2/...: no Host"). And
// it redirects a plain GET of a blob, which Ollama's pull insists on (see redirectBlob).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

var (
	manifestPath = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)
	blobPath     = regexp.MustCompile(`^/v2/(.+)/blobs/sha256:[0-9a-f]{64}$`)
)

// redirectBlob answers Ollama's first GET of a blob. Ollama v0.24 asks for the blob once without a Range
// and takes the Location of the answer as the URL its parts come from (registry.ollama.ai redirects to a
// CDN); an answer without one fails the pull ("http: no Location header in response"), and it follows
// redirects to the same host name. So the answer is a redirect to the other loopback name (127.0.0.1 <->
// localhost) on the same port, marked "direct" so that it is served there. Clients that follow redirects
// (crane, docker) get the blob one hop later.
func redirectBlob(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || !blobPath.MatchString(r.URL.Path) || r.URL.Query().Has("direct") {
		return false
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		return false
	}
	other := "localhost"
	if host == "localhost" {
		other = "127.0.0.1"
	}
	http.Redirect(w, r, "http://"+net.JoinHostPort(other, port)+r.URL.Path+"?direct=1", http.StatusTemporaryRedirect)
	return true
}

// savedManifest is one manifest as a client PUT it.
type savedManifest struct {
	Path        string `json:"path"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// statusRecorder remembers the status and turns a relative Location into an absolute one.
type statusRecorder struct {
	http.ResponseWriter
	status int
	base   string
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	if loc := s.Header().Get("Location"); strings.HasPrefix(loc, "/") {
		s.Header().Set("Location", s.base+loc)
	}
	s.ResponseWriter.WriteHeader(code)
}

func main() {
	port := flag.Int("port", 5000, "TCP port on 127.0.0.1")
	dir := flag.String("dir", "", "state folder: blobs/ and manifests/ (required)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	blobs, manifests := filepath.Join(*dir, "blobs"), filepath.Join(*dir, "manifests")
	for _, d := range []string{blobs, manifests} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	inner := registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)))
	replay(inner, manifests)

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirectBlob(w, r) {
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, base: "http://" + r.Host}
		if r.Method != http.MethodPut || !manifestPath.MatchString(r.URL.Path) {
			inner.ServeHTTP(rec, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		inner.ServeHTTP(rec, r)
		if rec.status == http.StatusCreated {
			save(manifests, savedManifest{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: body})
		}
	})

	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on %s, state in %s", listener.Addr(), *dir)
	s := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: handler}
	log.Fatal(s.Serve(listener))
}

// save writes one manifest atomically (a reader never sees half a file); a failure is logged, not fatal:
// the registry still holds the manifest until it restarts.
func save(dir string, m savedManifest) {
	data, err := json.Marshal(m)
	if err == nil {
		file := filepath.Join(dir, url.PathEscape(m.Path)+".json")
		if err = os.WriteFile(file+".tmp", data, 0o644); err == nil {
			err = os.Rename(file+".tmp", file)
		}
	}
	if err != nil {
		log.Printf("could not save the manifest %s: %v", m.Path, err)
	}
}

// replay PUTs every saved manifest into the in-memory registry, as the client once did.
func replay(h http.Handler, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		log.Fatal(err)
	}
	for _, file := range files {
		var m savedManifest
		data, err := os.ReadFile(file)
		if err == nil {
			err = json.Unmarshal(data, &m)
		}
		if err != nil {
			log.Printf("skipping %s: %v", file, err)
			continue
		}
		req := httptest.NewRequest(http.MethodPut, m.Path, bytes.NewReader(m.Body))
		req.Header.Set("Content-Type", m.ContentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			log.Printf("replaying %s: %d %s", m.Path, rec.Code, rec.Body.String())
			continue
		}
		log.Printf("replayed %s", m.Path)
	}
}
