package zzglob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		// pipeline upload's if_changed
		{"foo/**", "foo/bar/baz.go", true},
		{"foo/**", "bar/foo/baz.go", false},
		{"**", "a/b/c", true},
		{"foo/baz", "foo/baz", true},
		{"foo/baz", "foo/baz/qux", false},
		{"{foo,bar}/**", "bar/x", true},
		{"*.md", "CHANGELOG.md", true},
		{"*.md", "docs/README.md", false},
		{"**/*.md", "docs/README.md", true},
		{"**/*.md", "README.md", true},
		{"src/?.ts", "src/a.ts", true},
		{"src/[ab].ts", "src/c.ts", false},
		{"src/[^ab].ts", "src/c.ts", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.pattern, err)
		}
		if got := p.Match(c.path); got != c.want {
			t.Errorf("Parse(%q).Match(%q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}

func TestParseRejectsBadPatterns(t *testing.T) {
	for _, pattern := range []string{"bar/**/[asdf[[[[asdf", "{a{b{c{d"} {
		if _, err := Parse(pattern); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", pattern)
		}
	}
}

func TestExpandTilde(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	p, err := Parse("~/logs/*.log")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), home+"/logs/*.log"; got != want {
		t.Errorf("expanded = %q, want %q", got, want)
	}
	p, err = Parse("~/go.mod", ExpandTilde(false))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Match("~/go.mod") {
		t.Errorf("with ExpandTilde(false), ~ should stay a literal segment")
	}
}

// tree makes files (and directories, for names ending in "/") under a temporary
// directory and changes into it.
func tree(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return dir
}

func glob(t *testing.T, pattern string, opts ...GlobOption) []string {
	t.Helper()
	p, err := Parse(pattern)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = p.Glob(func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		got = append(got, path)
		return nil
	}, opts...)
	if err != nil {
		t.Fatalf("Glob(%q): %v", pattern, err)
	}
	return got
}

func TestGlob(t *testing.T) {
	dir := tree(t,
		"fixtures/a.jpg", "fixtures/b.gif", "fixtures/folder/c.jpg",
		"fixtures/with space/d.jpg", "log/x.log", "log/y.log", "mkmf.log", "empty/",
	)
	cases := map[string][]string{
		"fixtures/**/*.jpg":      {"fixtures/a.jpg", "fixtures/folder/c.jpg", "fixtures/with space/d.jpg"},
		"log/*":                  {"log/x.log", "log/y.log"},
		"*.log":                  {"mkmf.log"},
		"./log/x.*":              {"./log/x.log"},
		"**/*.gif":               {"fixtures/b.gif"},
		"{log,fixtures}/[xa].*":  {"fixtures/a.jpg", "log/x.log"},
		"missing/**/*":           nil,
		dir + "/fixtures/*.gif":  {dir + "/fixtures/b.gif"},
		"fixtures/folder/c.jpg":  {"fixtures/folder/c.jpg"},
		"fixtures/folder/nope.*": nil,
	}
	for pattern, want := range cases {
		if got := glob(t, pattern); !reflect.DeepEqual(got, want) {
			t.Errorf("Glob(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestWalkIntermediateDirs(t *testing.T) {
	tree(t, "a/b/c.txt", "a/d/e.txt", "z/c.txt")
	got := glob(t, "a/*/c.txt", WalkIntermediateDirs(true))
	want := []string{"a", "a/b", "a/b/c.txt", "a/d"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Glob = %q, want %q", got, want)
	}

	p, _ := Parse("missing/*.txt")
	var gotErr error
	_ = p.Glob(func(_ string, _ fs.DirEntry, err error) error {
		gotErr = err
		return nil
	}, WalkIntermediateDirs(true))
	if !errors.Is(gotErr, fs.ErrNotExist) {
		t.Errorf("missing root: got %v, want fs.ErrNotExist", gotErr)
	}
}

func TestTraverseSymlinks(t *testing.T) {
	dir := tree(t, "real/f.txt")
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	// A loop: real/back points at the directory that holds it.
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "real", "back")); err != nil {
		t.Fatal(err)
	}
	if got, want := glob(t, "**/*.txt", TraverseSymlinks(true)), []string{"link/f.txt", "real/f.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("following: %q, want %q", got, want)
	}
	if got, want := glob(t, "**/*.txt", TraverseSymlinks(false)), []string{"real/f.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("not following: %q, want %q", got, want)
	}
}

func TestMultiGlob(t *testing.T) {
	tree(t, "a.txt", "b.log", "c/d.txt")
	var patterns []*Pattern
	for _, s := range []string{"*.txt", "**/*.txt", "*.log"} {
		p, _ := Parse(s)
		patterns = append(patterns, p)
	}
	var got []string
	err := MultiGlob(context.Background(), patterns, func(path string, _ fs.DirEntry, err error) error {
		got = append(got, path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.txt", "a.txt", "c/d.txt", "b.log"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MultiGlob = %q, want %q", got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := MultiGlob(ctx, patterns, func(string, fs.DirEntry, error) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled MultiGlob returned %v", err)
	}
}
