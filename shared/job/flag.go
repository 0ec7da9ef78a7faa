package job

import "fmt"

// Flag is a yes/no field of a job's event detail: JSON true/false, or "true"/"false" (the local
// `make job` and `make migrate` send the detail's fields as strings); null or "" is false.
type Flag bool

// UnmarshalJSON reads true/false in either form; anything else is an error naming the value.
func (f *Flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = true
	case "false", `"false"`, "null", `""`:
		*f = false
	default:
		return fmt.Errorf("%s is not true or false", b)
	}
	return nil
}
