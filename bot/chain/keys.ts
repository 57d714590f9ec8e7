// The keeper's key, from an encrypted JSON keystore (the Web3 Secret Storage format that geth,
// ethers and Foundry's `cast wallet` write). The password comes from an injected source: the name
// of an environment variable together with the environment to read it from (the CLI edge passes
// process.env), or a prompt callback. Neither the password nor the key is ever printed, logged,
// or written: the returned signer exposes only its address and signing.
import { readFile } from "node:fs/promises";
import { Wallet, getAddress, isKeystoreJson, type HDNodeWallet, type TransactionRequest } from "ethers";
import { ChainError } from "./errors.ts";
import type { TxSigner } from "./tx-manager.ts";

export type PasswordSource =
  | { envVar: string; env: Readonly<Record<string, string | undefined>> }
  | { prompt: (question: string) => Promise<string> };

/** A signer that holds the decrypted key in a closure: no property, toJSON or inspect shows it. */
export interface KeystoreSigner extends TxSigner {
  readonly address: string;
  signTransaction(tx: TransactionRequest): Promise<string>;
  signMessage(message: string | Uint8Array): Promise<string>;
}

/** The address a keystore declares, read without decrypting (for dry runs and messages). */
export function keystoreAddress(json: string): string | undefined {
  try {
    const doc = JSON.parse(json) as { address?: string };
    return doc.address ? getAddress(doc.address.startsWith("0x") ? doc.address : `0x${doc.address}`) : undefined;
  } catch {
    return undefined;
  }
}

async function readPassword(source: PasswordSource, file: string): Promise<string> {
  if ("envVar" in source) {
    const value = source.env[source.envVar];
    if (value === undefined || value === "") {
      throw new ChainError("PASSWORD_MISSING", `the keystore password is not set: export ${source.envVar}`, { input: file });
    }
    return value;
  }
  return source.prompt(`password for ${file}: `);
}

function wrap(wallet: Wallet | HDNodeWallet): KeystoreSigner {
  const signer = {
    address: wallet.address,
    signTransaction: (tx: TransactionRequest) => wallet.signTransaction(tx),
    signMessage: (message: string | Uint8Array) => wallet.signMessage(message),
  };
  Object.defineProperty(signer, "toJSON", { value: () => ({ address: wallet.address }), enumerable: false });
  Object.defineProperty(signer, Symbol.for("nodejs.util.inspect.custom"), { value: () => `KeystoreSigner(${wallet.address})`, enumerable: false });
  return Object.freeze(signer);
}

/**
 * Decrypts a keystore file. Wrong password: WRONG_PASSWORD naming the file and its address.
 *
 * @example
 * const signer = await loadKeystoreSigner("keys/keeper.json", { envVar: "RISKKEEPER_KEYSTORE_PASSWORD", env: process.env });
 */
export async function loadKeystoreSigner(file: string, source: PasswordSource): Promise<KeystoreSigner> {
  let json: string;
  try {
    json = await readFile(file, "utf8");
  } catch (error) {
    throw new ChainError("KEYSTORE_INVALID", `cannot read the keystore: ${(error as Error).message}`, { input: file, cause: error });
  }
  if (!isKeystoreJson(json)) throw new ChainError("KEYSTORE_INVALID", "not an encrypted JSON keystore (version 3, with crypto.kdf)", { input: file });
  const password = await readPassword(source, file);
  try {
    return wrap(await Wallet.fromEncryptedJson(json, password));
  } catch (error) {
    const message = (error as Error).message ?? "";
    if (/incorrect password|invalid password/i.test(message)) {
      const address = keystoreAddress(json);
      // The cause is dropped on purpose: nothing derived from the password travels further.
      throw new ChainError("WRONG_PASSWORD", `wrong password for the keystore${address ? ` of ${address}` : ""}`, { input: file });
    }
    throw new ChainError("KEYSTORE_INVALID", `cannot decrypt the keystore: ${message.split("(")[0]!.trim()}`, { input: file });
  }
}
