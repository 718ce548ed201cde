/**
 * The JobBackend contract, run against the local backend on a real SQLite file.
 */
import { describeBackendContract } from "../../../support/backend-contract.js";
import { startTestBackend } from "./local-test-backend.js";

describeBackendContract("local", () => startTestBackend());
