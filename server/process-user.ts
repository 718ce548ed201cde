/**
 * Who the server runs as. os.userInfo() throws when the uid has no passwd entry, which is how
 * containers often run (`docker run --user 12345`, OpenShift's random uids); the server must
 * still start, so such a uid is named "uid-N".
 */
import os from "node:os";

export interface ProcessUser {
  uid: number;
  username: string;
}

export function processUser(): ProcessUser {
  try {
    const { uid, username } = os.userInfo();
    return { uid, username };
  } catch {
    const uid = process.getuid?.() ?? -1;
    return { uid, username: `uid-${uid}` };
  }
}
