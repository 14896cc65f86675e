// The namespace machine's command line: smolvm's CLI subset bottle calls,
// answered like the contract fake (same parser, database, checks, error
// texts), with guests that are real Linux namespaces. State lives under
// FAKES_STATE, else $XDG_STATE_HOME/bottle-nsvm.
import { homedir } from "node:os";
import { join } from "node:path";
import { runSmolvmCli } from "../fixtures/fakes/smolvm/cli.js";
import { namespaceDriver } from "./driver.js";

process.env.FAKES_STATE ||= join(process.env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "bottle-nsvm");
runSmolvmCli(process.argv.slice(2), namespaceDriver);
