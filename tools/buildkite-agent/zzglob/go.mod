// The project's stand-in for drjosh.dev/zzglob, which the Go module proxy refuses to
// serve (403). It is not a copy of that library: it provides only what
// github.com/buildkite/agent/v3 calls, on top of github.com/bmatcuk/doublestar/v4.
// See ../README.md.

module drjosh.dev/zzglob

go 1.24

require github.com/bmatcuk/doublestar/v4 v4.10.4
