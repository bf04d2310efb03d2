package fwknopconf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// fwknop's files are lines of NAME and value; these read them as fwknopd
// does, for access.conf and fwknopd.conf alike.

// splitLine is fwknop's reading of a line: the first word is the key (a
// trailing ':' dropped), the rest up to a ';' the value, trimmed.
func splitLine(line string) (key, value string, ok bool) {
	line = strings.TrimSpace(line)
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return "", "", false
	}
	key, value = strings.TrimSuffix(line[:i], ":"), line[i:]
	if j := strings.IndexByte(value, ';'); j >= 0 {
		value = value[:j]
	}
	value = strings.TrimSpace(value)
	return key, value, value != ""
}

// comment reports a line fwknop skips: blank, or starting with # or ;.
func comment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || t[0] == '#' || t[0] == ';'
}

// lines calls f with each line that is no comment: its number, its key
// and value; a line that is no "NAME value" is an error at its line.
func lines(path string, data []byte, f func(n int, key, value string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if comment(sc.Text()) {
			continue
		}
		key, value, ok := splitLine(sc.Text())
		if !ok {
			return lineErr(path, n, "%q: want NAME value", strings.TrimSpace(sc.Text()))
		}
		if err := f(n, key, value); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// LoadAccess reads an access.conf and the files it includes.
func LoadAccess(path string) (*Access, error) {
	return ParseAccess(path, nil, OSFiles{})
}

// Files is what ParseAccess reads includes through.
type Files interface {
	ReadFile(path string) ([]byte, error)
	// ReadDir lists the names in dir.
	ReadDir(dir string) ([]string, error)
}

// OSFiles reads the file system.
type OSFiles struct{}

func (OSFiles) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }
func (OSFiles) ReadDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, err
}
