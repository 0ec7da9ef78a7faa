// Command hello is the reference for cold-start measurements: an aws-lambda-go function that does
// nothing, built with the same flags as the real functions.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() { lambda.Start(func() error { return nil }) }
