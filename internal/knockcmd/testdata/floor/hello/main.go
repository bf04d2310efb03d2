// Command hello is BenchmarkProfileKnock's first floor: what any Go program
// pays to start on the machine.
package main

func main() { println("hello") }
