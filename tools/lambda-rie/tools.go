//go:build tools

// Keeps the emulator's command in this module's requirements.
package tools

import (
	_ "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
)
