//! Starting points for the three kinds of #HereToStay campaign. Every field can still
//! be overridden by its flag or edited at the prompt.

use crate::model::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Template {
    /// A sanctuary city: the council refuses to help deportations.
    City,
    /// A sanctuary school, college or university campus.
    Campus,
    /// Undocu-friendly classrooms and educators.
    Classroom,
}

/// Prefilled target, ask and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    pub target: &'static str,
    pub ask: &'static str,
    pub why: &'static str,
}

pub fn template(kind: Template, lang: Lang) -> TemplateText {
    match (kind, lang) {
        (Template::City, Lang::En) => TemplateText {
            target: "The Mayor and City Council",
            ask: "Declare our city a sanctuary city: no city money, staff, data or jails used to help \
                  immigration enforcement, and no questions about immigration status for city services.",
            why: "Our neighbors should be able to call the police, go to the clinic and send their kids to \
                  school without fear of being torn from their families. When local government refuses to \
                  act as an arm of deportation, the whole community is safer.",
        },
        (Template::City, Lang::Es) => TemplateText {
            target: "La alcaldía y el Concejo Municipal",
            ask: "Declarar nuestra ciudad como ciudad santuario: que ningún fondo, empleado, dato ni cárcel de la \
                  ciudad se use para ayudar a las deportaciones, y que no se pregunte por el estatus \
                  migratorio para recibir servicios municipales.",
            why: "Nuestros vecinos deben poder llamar a la policía, ir a la clínica y mandar a sus hijos a la \
                  escuela sin miedo a que los separen de su familia. Cuando el gobierno local se niega a \
                  colaborar con las deportaciones, toda la comunidad está más segura.",
        },
        (Template::Campus, Lang::En) => TemplateText {
            target: "The President and Board of Trustees",
            ask: "Make our campus a sanctuary: refuse immigration agents access without a judicial warrant, \
                  never share students' immigration status, keep financial aid and housing open to \
                  undocumented students, and fund legal support.",
            why: "Undocumented students and students from mixed-status families are part of our community. \
                  They cannot learn, teach or work here while living in fear. Our school has the power to \
                  protect them, and it should use it.",
        },
        (Template::Campus, Lang::Es) => TemplateText {
            target: "La rectoría y la Junta Directiva",
            ask: "Convertir nuestro campus en santuario: no dejar entrar a agentes de inmigración sin una \
                  orden judicial, no compartir nunca el estatus migratorio del estudiantado, mantener la \
                  ayuda financiera y la vivienda abiertas a estudiantes indocumentados y financiar apoyo legal.",
            why: "Los estudiantes indocumentados y los de familias con estatus mixto son parte de nuestra \
                  comunidad. Nadie puede aprender, enseñar ni trabajar con miedo. Nuestra escuela tiene el \
                  poder de protegerlos y debe usarlo.",
        },
        (Template::Classroom, Lang::En) => TemplateText {
            target: "The Superintendent and School Board",
            ask: "Support undocu-friendly classrooms: train every educator to support undocumented students, \
                  display a welcome sign in every classroom, and adopt a policy that no staff member asks about \
                  or shares immigration status.",
            why: "Every child has the right to a public education, whatever their papers. Students who feel \
                  safe in class learn, and teachers who know how to help can change a young person's life.",
        },
        (Template::Classroom, Lang::Es) => TemplateText {
            target: "La superintendencia y el Consejo Escolar",
            ask: "Apoyar aulas acogedoras para estudiantes indocumentados: capacitar a todo el personal docente, \
                  poner un cartel de bienvenida en cada aula y adoptar una política por la que nadie del \
                  personal pregunte ni comparta el estatus migratorio.",
            why: "Todo niño y toda niña tiene derecho a la educación pública, tenga o no papeles. Quien se siente \
                  seguro en clase aprende, y un docente que sabe cómo ayudar puede cambiarle la vida a un joven.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_exists_in_both_languages() {
        for kind in [Template::City, Template::Campus, Template::Classroom] {
            for lang in [Lang::En, Lang::Es] {
                let t = template(kind, lang);
                assert!(!t.target.is_empty() && t.ask.len() > 40 && t.why.len() > 40);
                assert!(
                    !t.ask.contains("  "),
                    "line continuation left double spaces"
                );
            }
        }
    }
}
