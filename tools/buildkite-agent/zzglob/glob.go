package zzglob

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/bmatcuk/doublestar/v4"
)

type globConfig struct {
	walkIntermediateDirs bool
	traverseSymlinks     bool
}

// GlobOption changes how Glob and MultiGlob walk the filesystem.
type GlobOption func(*globConfig)

// WalkIntermediateDirs says whether the callback also sees the directories walked
// through on the way to matches (the pattern's root first), not only the matches.
// With it, a missing root reaches the callback as an fs.ErrNotExist error; without
// it (the default), a missing root simply matches nothing.
func WalkIntermediateDirs(enable bool) GlobOption {
	return func(c *globConfig) { c.walkIntermediateDirs = enable }
}

// TraverseSymlinks says whether symlinks to directories are walked into (the
// default); a symlink that leads back to a directory being walked is not.
func TraverseSymlinks(enable bool) GlobOption {
	return func(c *globConfig) { c.traverseSymlinks = enable }
}

func newGlobConfig(opts []GlobOption) globConfig {
	cfg := globConfig{traverseSymlinks: true}
	for _, opt := range opts {
		opt(&cfg)
	}
	return cfg
}

// Glob walks the filesystem from the pattern's literal root, in lexical order as
// fs.WalkDir does, and calls fn for every path that matches, with the path written
// the way the pattern was (relative or absolute). A directory that fails to read is
// passed to fn with its error. fn may return fs.SkipDir or fs.SkipAll as for
// fs.WalkDir; any other error stops the walk and is returned.
func (p *Pattern) Glob(fn fs.WalkDirFunc, opts ...GlobOption) error {
	w := walker{pattern: p, cfg: newGlobConfig(opts), fn: fn}
	err := w.walkRoot()
	if errors.Is(err, fs.SkipAll) || errors.Is(err, fs.SkipDir) {
		return nil
	}
	return err
}

// MultiGlob runs Glob for each pattern in turn, stopping when ctx is done. A path that
// several patterns match is passed to fn once per pattern.
func MultiGlob(ctx context.Context, patterns []*Pattern, fn fs.WalkDirFunc, opts ...GlobOption) error {
	guarded := func(path string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fn(path, d, err)
	}
	for _, pattern := range patterns {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := pattern.Glob(guarded, opts...); err != nil {
			return err
		}
	}
	return nil
}

type walker struct {
	pattern *Pattern
	cfg     globConfig
	fn      fs.WalkDirFunc
	// ancestors are the directories being walked, to notice symlink loops.
	ancestors []fs.FileInfo
}

func (w *walker) walkRoot() error {
	p := w.pattern
	info, err := os.Stat(p.root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !w.cfg.walkIntermediateDirs {
			return nil
		}
		return w.fn(p.root, nil, err)
	}
	d := fs.FileInfoToDirEntry(info)
	if p.rest == "" {
		// The pattern ended in "/": it names its root.
		return w.fn(p.root, d, nil)
	}
	if !info.IsDir() {
		return nil
	}
	if w.cfg.walkIntermediateDirs {
		if err := w.fn(p.root, d, nil); err != nil {
			return err
		}
	}
	return w.walkDir(p.root, "", d, info)
}

// walkDir walks the directory at path (rel below the root; "" for the root itself).
func (w *walker) walkDir(path, rel string, d fs.DirEntry, info fs.FileInfo) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return skipDirIsNil(w.fn(w.display(rel), d, err))
	}
	w.ancestors = append(w.ancestors, info)
	defer func() { w.ancestors = w.ancestors[:len(w.ancestors)-1] }()

	for _, entry := range entries {
		childRel := entry.Name()
		if rel != "" {
			childRel = rel + "/" + childRel
		}
		childPath := w.display(childRel)
		dirInfo := w.descendInto(childPath, childRel, entry)
		matched := doublestar.MatchUnvalidated(w.pattern.rest, childRel)
		if matched || (dirInfo != nil && w.cfg.walkIntermediateDirs) {
			err := w.fn(childPath, entry, nil)
			if errors.Is(err, fs.SkipDir) {
				if dirInfo == nil {
					return nil // as fs.WalkDir: skip the rest of this directory
				}
				continue
			}
			if err != nil {
				return err
			}
		}
		if dirInfo != nil {
			if err := w.walkDir(childPath, childRel, entry, dirInfo); err != nil {
				return err
			}
		}
	}
	return nil
}

// descendInto returns the directory's info when the walk should go into the entry:
// a directory (or a followed symlink to one) below which something may match.
func (w *walker) descendInto(path, rel string, entry fs.DirEntry) fs.FileInfo {
	isLink := entry.Type()&fs.ModeSymlink != 0
	if !entry.IsDir() && !(isLink && w.cfg.traverseSymlinks) {
		return nil
	}
	if !w.pattern.mayContain(rel) {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil || !info.IsDir() {
		return nil
	}
	for _, ancestor := range w.ancestors {
		if os.SameFile(ancestor, info) {
			return nil
		}
	}
	return info
}

func (w *walker) display(rel string) string {
	if rel == "" {
		return w.pattern.root
	}
	return w.pattern.prefix + rel
}

func skipDirIsNil(err error) error {
	if errors.Is(err, fs.SkipDir) {
		return nil
	}
	return err
}
