// Package zzglob is ondemand-eks's stand-in for drjosh.dev/zzglob (which the Go module
// proxy does not serve), written for building github.com/buildkite/agent/v3 in tests.
// It offers exactly the API the agent calls: Parse with ExpandTilde, Pattern.Match,
// Pattern.Glob and MultiGlob with WalkIntermediateDirs and TraverseSymlinks. Matching
// is github.com/bmatcuk/doublestar/v4's: `*`, `?`, `[abc]`, `[^abc]`, `{x,y}`, `\`
// escapes, and `**` as a whole path segment for zero or more directories. Paths use
// `/`; Windows paths are not supported.
package zzglob

import (
	"fmt"
	"os"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Pattern is a parsed glob pattern.
type Pattern struct {
	// pattern is the whole pattern, after ~ expansion.
	pattern string
	// root is the literal directory the pattern starts in ("." when it names none).
	root string
	// prefix goes before a path relative to root to give the path reported to callbacks:
	// "" for an implied ".", so that "*.log" reports "a.log", not "./a.log".
	prefix string
	// rest is the part of the pattern below root.
	rest string
}

type parseConfig struct {
	expandTilde bool
}

// ParseOption changes how Parse reads a pattern.
type ParseOption func(*parseConfig)

// ExpandTilde says whether a leading "~" or "~/" means the current user's home
// directory (the default) or a literal path segment named "~".
func ExpandTilde(enable bool) ParseOption {
	return func(c *parseConfig) { c.expandTilde = enable }
}

// Parse checks a pattern and prepares it for Match and Glob.
func Parse(pattern string, opts ...ParseOption) (*Pattern, error) {
	cfg := parseConfig{expandTilde: true}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.expandTilde && (pattern == "~" || strings.HasPrefix(pattern, "~/")) {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("expanding ~ in %q: %w", pattern, err)
		}
		pattern = strings.TrimSuffix(home, "/") + pattern[1:]
	}
	if !doublestar.ValidatePattern(pattern) {
		return nil, fmt.Errorf("invalid glob pattern %q: %w", pattern, doublestar.ErrBadPattern)
	}
	root, rest := doublestar.SplitPattern(pattern)
	prefix := root + "/"
	switch {
	case root == "/":
		prefix = "/"
	case root == "." && !strings.HasPrefix(pattern, "./"):
		prefix = ""
	}
	return &Pattern{pattern: pattern, root: root, prefix: prefix, rest: rest}, nil
}

// String returns the pattern, with ~ expanded if Parse expanded it.
func (p *Pattern) String() string {
	return p.pattern
}

// Match reports whether path, written with "/" separators, matches the whole pattern.
func (p *Pattern) Match(path string) bool {
	return doublestar.MatchUnvalidated(p.pattern, path)
}

// mayContain reports whether something below the directory dir (a path relative to
// the pattern's root) could match, so that Glob can skip directories that cannot.
// It errs on the side of walking: a brace holding "/" turns the check off.
func (p *Pattern) mayContain(dir string) bool {
	segments, ok := splitSegments(p.rest)
	if !ok {
		return true
	}
	names := strings.Split(dir, "/")
	for i, name := range names {
		if i >= len(segments) {
			return false
		}
		if segments[i] == "**" {
			return true
		}
		if !doublestar.MatchUnvalidated(segments[i], name) {
			return false
		}
	}
	// A child adds one more name, which needs one more segment (or a "**").
	return len(names) < len(segments)
}

// splitSegments splits a pattern at its unescaped "/"s; ok is false when a "/" sits
// inside braces or brackets, where a segment-by-segment reading would be wrong.
func splitSegments(pattern string) (segments []string, ok bool) {
	depth, start, inClass := 0, 0, false
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '{':
			depth++
		case '}':
			depth--
		case '/':
			if depth > 0 || inClass {
				return nil, false
			}
			segments = append(segments, pattern[start:i])
			start = i + 1
		}
	}
	return append(segments, pattern[start:]), true
}
