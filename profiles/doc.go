// Package profiles will hold the store of named host profiles (one YAML
// file read through viper) that lets "knock ssh-prod" knock a saved host.
// It is empty until profiles are built.
package profiles
