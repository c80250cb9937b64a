// Command pnwbot runs the Politics and War alliance bot and its maintenance tasks.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := cli(context.Background(), os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "pnwbot:", err)
		os.Exit(1)
	}
}
