// Who is signed in: the token (session storage) and `GET /v1/me`.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, ok, getToken, setToken, type components } from "./api/client";

export type Me = components["schemas"]["Me"];

interface Session {
  me: Me | null;
  loading: boolean;
  signIn(token: string): Promise<void>;
  signOut(): void;
  refresh(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  const refresh = useCallback(async () => {
    if (!getToken()) {
      setMe(null);
      setLoading(false);
      return;
    }
    try {
      setMe(await ok(api.GET("/v1/me")));
    } catch {
      setToken(null);
      setMe(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const signIn = useCallback(async (token: string) => {
    setToken(token);
    try {
      setMe(await ok(api.GET("/v1/me")));
    } catch (e) {
      setToken(null);
      throw e;
    }
  }, []);

  const signOut = useCallback(() => {
    setToken(null);
    setMe(null);
  }, []);

  return (
    <SessionContext.Provider value={{ me, loading, signIn, signOut, refresh }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
