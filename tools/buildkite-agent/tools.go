//go:build tools

// Keeps the agent's command in this module's requirements.
package tools

import (
	_ "github.com/buildkite/agent/v3"
)
